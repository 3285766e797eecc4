// /debug sessions are signed cookies any replica can check; logging out writes the session's id
// here, so every replica refuses it from then on. A row is needed only until the cookie would
// have expired anyway; later logouts delete the expired ones.
export default /* sql */ `
create table fabric.debug_session_revocations (
  session_id text primary key,
  expires_at timestamptz not null
);
create index debug_session_revocations_expiry on fabric.debug_session_revocations (expires_at);
`
