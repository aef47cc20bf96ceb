/**
 * What a committed step survives. Both journals take the same setting (`journal.durability` in
 * hataraku.config.json); docs/durability.md says exactly what each survives.
 *
 * - `process`: every commit survives the Hataraku process crashing or being killed. A power cut
 *   (or a kernel crash) keeps the journal intact but may take back the latest commits.
 * - `power`: additionally, nothing leaves the process (a tool with an effect, a final result, an
 *   approval) before every step it depends on is on disk (fsync, shared by the commits that wait
 *   for it: group commit).
 */
export type JournalDurability = 'process' | 'power';

export const journalDurabilities: readonly JournalDurability[] = ['process', 'power'];

/**
 * `process`: a process crash (the common failure: a deploy, an OOM kill, Ctrl-C) loses nothing,
 * and a power cut loses only steps that are redone on resume (tools with effects get the same
 * idempotency key then), at about half the cost per step; see docs/durability.md.
 */
export const defaultJournalDurability: JournalDurability = 'process';
