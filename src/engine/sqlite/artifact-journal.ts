/** Files runs produced, on SQLite: the last record of a path wins. */
import type { ArtifactJournal } from '../engine.js';
import type { JournalDatabase } from './journal-database.js';
import { type ArtifactRow, artifactFromRow } from './rows.js';

export function createArtifactJournal(database: JournalDatabase): ArtifactJournal {
  const { db, guard } = database;
  const statements = {
    upsertArtifact: db.prepare<ArtifactRow>(
      `INSERT INTO artifacts (run_id, path, step_index, media_type, description, created_at)
       VALUES (@run_id, @path, @step_index, @media_type, @description, @created_at)
       ON CONFLICT (run_id, path) DO UPDATE SET step_index = excluded.step_index, media_type = excluded.media_type,
         description = excluded.description, created_at = excluded.created_at`,
    ),
    listArtifacts: db.prepare<[string], ArtifactRow>(
      'SELECT * FROM artifacts WHERE run_id = ? ORDER BY created_at, path',
    ),
  };
  return {
    recordArtifact(artifact) {
      return guard('recording an artifact', () => {
        statements.upsertArtifact.run({
          run_id: artifact.runId,
          path: artifact.path,
          step_index: artifact.stepIndex,
          media_type: artifact.mediaType,
          description: artifact.description ?? null,
          created_at: artifact.createdAt,
        });
      });
    },
    listArtifacts(runId) {
      return guard('listing artifacts', () => statements.listArtifacts.all(runId).map(artifactFromRow));
    },
  };
}
