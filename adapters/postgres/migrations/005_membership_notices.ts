// A membership change (a cluster joined, became unreachable or reachable, was removed, or a
// deletion lets it go) is told to the projects it concerns by a durable notice: written in the
// transaction that decides the change, then worked off in bounded chunks of projects, each chunk
// a transaction that advances the notice's cursor. A crash resumes from the cursor; nothing has
// to tell every project again on each daemon start.
export default /* sql */ `
create table fabric.membership_notices (
  id         bigserial primary key,
  cluster_id text not null,
  -- the project events to apply, in order
  events     jsonb not null,
  -- which projects: every live one, or only those being deleted
  audience   text not null check (audience in ('live', 'deleting')),
  -- the last project id told; chunks go on after it in id order
  cursor     text not null default '',
  created_at timestamptz not null default now(),
  done_at    timestamptz
);
create index membership_notices_open on fabric.membership_notices (id) where done_at is null;
`
