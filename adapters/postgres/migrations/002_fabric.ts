// Fabric's own state: the read model the API serves, actor snapshots (the machines' truth),
// the transactional outbox, idempotency keys and the cluster registry.
export default /* sql */ `
create schema if not exists fabric;

create table fabric.accounts (
  id           text primary key,
  name         text not null,
  email        text not null,
  api_key_hash text not null unique,
  created_at   timestamptz not null
);

create table fabric.projects (
  id         text primary key,
  account_id text not null references fabric.accounts (id),
  name       text not null,
  namespace  text not null unique,
  phase      text not null,
  generation integer not null,
  created_at timestamptz not null,
  updated_at timestamptz not null
);
create index projects_by_account on fabric.projects (account_id, id);

create table fabric.project_clusters (
  project_id          text not null references fabric.projects (id),
  cluster_id          text not null,
  phase               text not null,
  reason              text,
  observed_generation integer not null,
  updated_at          timestamptz not null,
  primary key (project_id, cluster_id)
);

create table fabric.clusters (
  id           text primary key,
  phase        text not null check (phase in ('Active', 'Unreachable', 'Removed')),
  joined_at    timestamptz not null,
  last_seen_at timestamptz
);

-- version increments on every save: writers compare-and-set it (optimistic concurrency).
create table fabric.actor_snapshots (
  actor_id   text primary key,
  machine    text not null,
  version    bigint not null,
  status     text not null,
  snapshot   jsonb not null,
  updated_at timestamptz not null
);
create index actor_snapshots_live on fabric.actor_snapshots (machine, actor_id) where status = 'active';

create table fabric.outbox (
  id         bigserial primary key,
  topic      text not null,
  key        text not null,
  value      text,
  headers    jsonb not null default '{}',
  created_at timestamptz not null default now(),
  sent_at    timestamptz
);
create index outbox_unsent on fabric.outbox (id) where sent_at is null;

create table fabric.idempotency_keys (
  scope        text not null,
  key          text not null,
  request_hash text not null,
  status       integer not null,
  response     jsonb not null,
  created_at   timestamptz not null default now(),
  primary key (scope, key)
);
`
