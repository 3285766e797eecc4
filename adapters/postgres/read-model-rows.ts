// What the read models of entities with a status per cluster (projects, resources) write and page
// the same way: only the cluster rows that changed since the snapshot they were loaded from, and
// pages ordered by (created_at, id).

/** The clusters whose status differs from `before` (all of them for a new entity), and those gone since. */
export const clusterChanges = <Status>(
  after: Readonly<Record<string, Status>>, before: Readonly<Record<string, Status>> | undefined, same: (a: Status, b: Status) => boolean,
) => ({
  changed: Object.entries(after).filter(([id, c]) => before?.[id] === undefined || !same(before[id]!, c)),
  removed: before === undefined ? [] : Object.keys(before).filter((id) => after[id] === undefined),
})

/** Cursor = the last item's (created_at, id), stable under inserts; rpc/http/cursor.ts signs it for clients. */
export const encodePagePosition = (item: { readonly createdAt: string; readonly id: string }) =>
  btoa(JSON.stringify([item.createdAt, item.id])).replace(/=+$/, "")

export const decodePagePosition = (cursor: string): readonly [Date, string] | undefined => {
  try {
    const value: unknown = JSON.parse(atob(cursor))
    if (Array.isArray(value) && value.length === 2 && typeof value[0] === "string" && typeof value[1] === "string" && !Number.isNaN(Date.parse(value[0]))) {
      return [new Date(value[0]), value[1]]
    }
  } catch {}
  return undefined
}

/** A page of `items` (the first `limit` of `rows`, read with `limit + 1`): the next cursor only when there is more. */
export const pageOf = <A extends { readonly createdAt: string; readonly id: string }>(items: ReadonlyArray<A>, rows: ReadonlyArray<unknown>, limit: number) => {
  const last = items[items.length - 1]
  return { items, nextCursor: rows.length > limit && last ? encodePagePosition(last) : null }
}
