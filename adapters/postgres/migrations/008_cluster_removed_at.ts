// When an operator removed a cluster: a daemon that was already running then does not undo the
// removal with a join it sends late (a start still under way, a lagging signal consumer).
export default /* sql */ `
alter table fabric.clusters add column removed_at timestamptz;
`
