// The old Demeter API's schema, which the old version still reads and writes (compatibility
// contract). Ids are shared with Fabric's own rows so every legacy write is keyed and idempotent.
// Rules it relies on: one user per email (case-insensitive), a namespace is globally unique,
// a per-account project quota on ACTIVE projects, and an audit row for every change.
export default /* sql */ `
create schema if not exists demeter;

create table demeter.accounts (
  id            text primary key,
  name          text not null,
  project_quota integer not null default 10 check (project_quota >= 0),
  status        text not null default 'active' check (status in ('active', 'suspended')),
  created_at    timestamptz not null default now()
);

create table demeter.users (
  id         text primary key,
  account_id text not null references demeter.accounts (id),
  email      text not null,
  role       text not null default 'owner' check (role in ('owner', 'member')),
  created_at timestamptz not null default now()
);
create unique index users_email_key on demeter.users (lower(email));

create table demeter.projects (
  id         text primary key,
  account_id text not null references demeter.accounts (id),
  name       text not null,
  namespace  text not null unique,
  status     text not null default 'active' check (status in ('active', 'deleted')),
  created_at timestamptz not null default now(),
  deleted_at timestamptz
);
create index projects_active_by_account on demeter.projects (account_id) where status = 'active';

create table demeter.audit_log (
  id         bigserial primary key,
  account_id text not null,
  action     text not null,
  entity_id  text not null,
  details    jsonb not null default '{}',
  created_at timestamptz not null default now()
);
create index audit_log_by_account on demeter.audit_log (account_id, id);
`
