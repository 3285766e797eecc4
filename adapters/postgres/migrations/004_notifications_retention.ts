// Push instead of poll: the database announces, inside the writing transaction (so at its commit,
// and never for a rolled-back write), that an actor changed or that outbox rows were written;
// every process LISTENs (adapters/postgres/notifications.ts). Payloads are ids or nothing, far
// under NOTIFY's 8000 bytes. Plus the indexes the retention job (adapters/postgres/retention.ts)
// deletes by, so a pass reads only the rows it deletes.
export default /* sql */ `
create function fabric.notify_actor_changed() returns trigger language plpgsql as $$
begin
  -- The payload is the actor id; '' (for an id too long to send) wakes every watcher.
  perform pg_notify('fabric_actor_changed', case when octet_length(new.actor_id) <= 1000 then new.actor_id else '' end);
  return null;
end $$;
create trigger actor_snapshots_notify after insert or update on fabric.actor_snapshots
  for each row execute function fabric.notify_actor_changed();

-- Once per statement, and Postgres folds repeats within one transaction: one wake-up per commit.
create function fabric.notify_outbox_written() returns trigger language plpgsql as $$
begin
  perform pg_notify('fabric_outbox_written', '');
  return null;
end $$;
create trigger outbox_notify after insert on fabric.outbox
  for each statement execute function fabric.notify_outbox_written();

create index outbox_sent on fabric.outbox (sent_at) where sent_at is not null;
create index idempotency_keys_by_age on fabric.idempotency_keys (created_at);
`
