// Every event an actor applied, with the state it led to: the history the debug UI shows and an
// audit trail for operators. Written in the same transaction as the snapshot.
export default /* sql */ `
create table fabric.actor_events (
  actor_id   text not null,
  version    bigint not null,
  event      jsonb not null,
  state      jsonb not null,
  created_at timestamptz not null default now(),
  primary key (actor_id, version)
);
`
