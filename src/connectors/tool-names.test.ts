import { describe, expect, it } from 'vitest';
import { toolNamePattern } from '../tools/define-tool.js';
import { connectorToolNames } from './tool-names.js';

describe('connector tool names', () => {
  it('prefixes the connector and keeps valid names as they are', () => {
    expect(connectorToolNames('fs', ['read_file', 'list-directory'])).toEqual(['fs.read_file', 'fs.list-directory']);
  });

  it('replaces characters a tool name may not hold', () => {
    expect(connectorToolNames('github', ['repos/get-content', 'GET /users/{id}', '日本語'])).toEqual([
      'github.repos_get-content',
      'github.GET_users_id',
      'github.operation',
    ]);
  });

  it('numbers names that collide, ignoring case', () => {
    expect(connectorToolNames('api', ['get item', 'get/item', 'Get_Item'])).toEqual([
      'api.get_item',
      'api.get_item_2',
      'api.Get_Item_3',
    ]);
  });

  it('cuts long names to 64 characters with a digest that keeps them apart', () => {
    const long = 'a'.repeat(80);
    const names = connectorToolNames('service', [`${long}1`, `${long}2`]);
    expect(names.every((name) => name.length <= 64 && toolNamePattern.test(name))).toBe(true);
    expect(names[0]).not.toBe(names[1]);
  });
});
