import { describe, expect, it } from 'vitest';
import { levenshteinDistance, matchToolName, normalizeToolName } from './tool-name.js';

const known = ['get_weather', 'search_files', 'read_file', 'write_file'];

describe('matchToolName', () => {
  it('prefers exact equality', () => {
    expect(matchToolName('read_file', known)).toEqual({ name: 'read_file', kind: 'exact', distance: 0 });
  });

  it('ignores case and separators', () => {
    for (const written of ['getWeather', 'get-weather', 'GET_WEATHER', 'Get Weather', 'get.weather']) {
      expect(matchToolName(written, known)).toEqual({ name: 'get_weather', kind: 'normalized', distance: 0 });
    }
  });

  it('strips a namespace prefix such as functions.', () => {
    expect(matchToolName('functions.get_weather', known)?.name).toBe('get_weather');
    expect(matchToolName('default_api.searchFiles', known)?.name).toBe('search_files');
  });

  it('accepts a near miss within the edit-distance allowance', () => {
    expect(matchToolName('serch_files', known)).toEqual({ name: 'search_files', kind: 'edit-distance', distance: 1 });
    expect(matchToolName('get_wether', known)).toEqual({ name: 'get_weather', kind: 'edit-distance', distance: 1 });
  });

  it('rejects a name too far from every tool', () => {
    expect(matchToolName('send_email', known)).toBeUndefined();
    expect(matchToolName('weather', known)).toBeUndefined();
    expect(matchToolName('', known)).toBeUndefined();
  });

  it('rejects a near miss shared by two tools', () => {
    expect(matchToolName('xead_file', ['read_file', 'bead_file'])).toBeUndefined();
  });

  it('rejects a normalised match shared by two tools', () => {
    expect(matchToolName('GETWEATHER', ['get_weather', 'getWeather'])).toBeUndefined();
  });

  it('allows one edit even for short names', () => {
    expect(matchToolName('lss', ['ls', 'cat'])).toEqual({ name: 'ls', kind: 'edit-distance', distance: 1 });
  });
});

describe('normalizeToolName', () => {
  it('drops quotes, prefix, case and separators', () => {
    expect(normalizeToolName(' `functions.Get-Weather` ')).toBe('getweather');
  });
});

describe('levenshteinDistance', () => {
  it('counts insertions, deletions and substitutions', () => {
    expect(levenshteinDistance('kitten', 'sitting')).toBe(3);
    expect(levenshteinDistance('', 'abc')).toBe(3);
    expect(levenshteinDistance('same', 'same')).toBe(0);
  });
});

describe('matchToolName with namespaced tool names', () => {
  it('matches names whose own namespace looks like a prefix', () => {
    expect(matchToolName('functions_intersect', ['functions.intersect', 'functions.zero'])?.name).toBe(
      'functions.intersect',
    );
    expect(matchToolName('functions.functions.intersect', ['functions.intersect', 'functions.zero'])?.name).toBe(
      'functions.intersect',
    );
    expect(matchToolName('tool_search', ['tool.search'])?.name).toBe('tool.search');
    expect(matchToolName('functions.get_weather', ['get_weather'])?.name).toBe('get_weather');
  });
});
