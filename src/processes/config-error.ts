/** A bad setting: the process stops with this message, which names it. */
export class ConfigError extends Error {}
