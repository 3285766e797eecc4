// The invoked steps' contract between a machine and the host: a machine names a step and its
// input; the host runs the matching Effect (machines/*-steps.ts) inside the transaction that
// applies the event. Every step is idempotent, keyed by the entity id, because a step may run
// again after a restore.
import { fromPromise } from "xstate"

/** A step's failure as the machine records it (a tagged domain error, serialisable). */
export interface StepFailure {
  readonly _tag: string
  readonly message: string
}

/** Declares a step in `setup({ actors })`; running it without the host is a programming error. */
export const declareStep = <Output, Input>(name: string) =>
  fromPromise<Output, Input>(() => Promise.reject(new Error(`step ${name} runs only inside the actor host`)))

export const toStepFailure = (error: unknown): StepFailure => {
  const e = error as { _tag?: string; message?: string }
  return { _tag: e?._tag ?? "Defect", message: e?.message ?? String(error) }
}

/**
 * A step's refusal (onError of its invoke): on to `target` with the failure recorded by the
 * machine's `recordFailure` action, so the host can answer with the tagged error.
 */
export const refusedTo = (target: string) => ({
  target,
  actions: { type: "recordFailure" as const, params: ({ event }: { readonly event: { readonly error: unknown } }) => toStepFailure(event.error) },
})
