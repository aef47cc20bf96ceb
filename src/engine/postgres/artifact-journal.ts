/** Files runs produced, on PostgreSQL: the last record of a path wins. */
import type { ArtifactJournal } from '../engine.js';
import { type ArtifactRow, artifactFromRow } from '../sqlite/rows.js';
import type { PostgresJournalDatabase } from './journal-database.js';

export function createArtifactJournal(database: PostgresJournalDatabase): ArtifactJournal {
  const { pool, operation } = database;
  return {
    recordArtifact(artifact) {
      return operation('recording an artifact', async () => {
        await pool.query(
          `INSERT INTO artifacts (run_id, path, step_index, media_type, description, created_at)
           VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (run_id, path) DO UPDATE SET step_index = excluded.step_index,
             media_type = excluded.media_type, description = excluded.description, created_at = excluded.created_at`,
          [
            artifact.runId,
            artifact.path,
            artifact.stepIndex,
            artifact.mediaType,
            artifact.description ?? null,
            artifact.createdAt,
          ],
        );
      });
    },
    listArtifacts(runId) {
      return operation('listing artifacts', async () =>
        (
          await pool.query<ArtifactRow>('SELECT * FROM artifacts WHERE run_id = $1 ORDER BY created_at, path', [runId])
        ).rows.map(artifactFromRow),
      );
    },
  };
}
