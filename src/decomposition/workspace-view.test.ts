/**
 * A delegated task's workspace: a sub-folder with the handed-over files (default), the parent's
 * own folder, or a copy of it; never a path or a link out of the parent's workspace.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WorkspacePathError } from '../toolchain/files/workspace-path.js';
import { prepareWorkspaceView } from './workspace-view.js';

function parentWorkspace() {
  const directory = mkdtempSync(join(tmpdir(), 'hataraku-view-'));
  const workspace = join(directory, 'workspace');
  mkdirSync(join(workspace, 'data'), { recursive: true });
  writeFileSync(join(workspace, 'a.txt'), 'a');
  writeFileSync(join(workspace, 'data', 'b.csv'), 'b');
  writeFileSync(join(directory, 'outside.txt'), 'secret');
  symlinkSync(join(directory, 'outside.txt'), join(workspace, 'data', 'link.txt'));
  return { directory, workspace };
}

const base = { childRunId: 'run_view.1', folderName: '1-reader' };

describe('workspace views', () => {
  it('sub-folder: only the handed-over files, links left out, found again on resume', () => {
    const { workspace } = parentWorkspace();
    const view = prepareWorkspaceView({ ...base, mode: 'sub-folder', parentWorkspace: workspace, files: ['data'] });
    expect(view).toBe(join(realpathSync(workspace), 'tasks', '1-reader'));
    expect(readFileSync(join(view as string, 'data', 'b.csv'), 'utf8')).toBe('b');
    expect(existsSync(join(view as string, 'data', 'link.txt'))).toBe(false);
    expect(existsSync(join(view as string, 'a.txt'))).toBe(false);
    // The child's own writes survive a second preparation (a resumed parent).
    writeFileSync(join(view as string, 'out.md'), 'mine');
    prepareWorkspaceView({ ...base, mode: 'sub-folder', parentWorkspace: workspace, files: ['data'] });
    expect(readFileSync(join(view as string, 'out.md'), 'utf8')).toBe('mine');
  });

  it('shared: the parent folder itself; copy: everything but links and other tasks, elsewhere', () => {
    const { workspace } = parentWorkspace();
    expect(prepareWorkspaceView({ ...base, mode: 'shared', parentWorkspace: workspace, files: ['a.txt'] })).toBe(
      realpathSync(workspace),
    );
    mkdirSync(join(workspace, 'tasks', '0-other'), { recursive: true });
    const copy = prepareWorkspaceView({
      ...base,
      childRunId: `run_view_${Date.now()}.2`,
      mode: 'copy',
      parentWorkspace: workspace,
      files: [],
    }) as string;
    expect(copy.startsWith(realpathSync(workspace))).toBe(false);
    expect(readFileSync(join(copy, 'a.txt'), 'utf8')).toBe('a');
    expect(existsSync(join(copy, 'data', 'link.txt'))).toBe(false);
    expect(existsSync(join(copy, 'tasks'))).toBe(false);
  });

  it('refuses paths out of the workspace and missing files, leaving nothing behind', () => {
    const { workspace } = parentWorkspace();
    for (const files of [['../outside.txt'], ['/etc/passwd'], ['data/link.txt'], ['missing.txt']]) {
      expect(() => prepareWorkspaceView({ ...base, mode: 'sub-folder', parentWorkspace: workspace, files })).toThrow(
        WorkspacePathError,
      );
    }
    expect(existsSync(join(workspace, 'tasks'))).toBe(false);
  });
});
