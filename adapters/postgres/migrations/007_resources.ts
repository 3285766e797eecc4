// Resources in a project (custom objects of the catalogued kinds). The old Demeter schema gains
// what it needs to keep the quota rule the way it keeps the project quota: a per-account
// `resource_quota` (on ACTIVE resources) and a row per resource, whose name is unique per kind
// in its project while active; the old version reads neither and is not disturbed by them.
// Fabric's own read model mirrors fabric.projects and fabric.project_clusters; each cluster's
// served kinds (its daemon's API discovery, sent with its heartbeats) are kept with the cluster.
export default /* sql */ `
alter table demeter.accounts add column resource_quota integer not null default 50 check (resource_quota >= 0);

create table demeter.resources (
  id         text primary key,
  account_id text not null references demeter.accounts (id),
  project_id text not null references demeter.projects (id),
  kind       text not null,
  name       text not null,
  spec       jsonb not null,
  status     text not null default 'active' check (status in ('active', 'deleted')),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  deleted_at timestamptz
);
create unique index resources_name_key on demeter.resources (project_id, kind, name) where status = 'active';
create index resources_active_by_account on demeter.resources (account_id) where status = 'active';

alter table fabric.clusters add column served_kinds jsonb;

create table fabric.resources (
  id         text primary key,
  project_id text not null references fabric.projects (id),
  account_id text not null,
  kind       text not null,
  name       text not null,
  spec       jsonb not null,
  phase      text not null,
  generation integer not null,
  created_at timestamptz not null,
  updated_at timestamptz not null
);
create index resources_by_project on fabric.resources (project_id, created_at, id);

create table fabric.resource_clusters (
  resource_id         text not null references fabric.resources (id),
  cluster_id          text not null,
  phase               text not null,
  reason              text,
  observed_generation integer not null,
  conditions          jsonb,
  updated_at          timestamptz not null,
  primary key (resource_id, cluster_id)
);
`
