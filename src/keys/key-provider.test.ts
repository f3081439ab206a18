import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { LocalKeyProvider } from './index.js';

const context = { lgCode: '999016', purpose: 'data' };

describe('LocalKeyProvider', () => {
  it('wraps and unwraps a data key, bound to its context', async () => {
    const provider = LocalKeyProvider.ephemeral();
    const dataKey = randomBytes(32);
    const wrapped = await provider.wrap(dataKey, context);
    expect(wrapped.wrapped.includes(dataKey)).toBe(false);
    expect(await provider.unwrap(wrapped, context)).toEqual(dataKey);
    await expect(provider.unwrap(wrapped, { ...context, lgCode: '131016' })).rejects.toMatchObject({
      code: 'KEY_UNWRAP_FAILED',
    });
    const altered = Buffer.from(wrapped.wrapped);
    altered[altered.length - 1]! ^= 1;
    await expect(provider.unwrap({ ...wrapped, wrapped: altered }, context)).rejects.toMatchObject({
      code: 'KEY_UNWRAP_FAILED',
    });
  });

  it('keeps old versions in its file after rotation and refuses another file’s keys', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jumin-kek-'));
    const file = path.join(dir, 'keys', 'master.keys');
    expect(() => LocalKeyProvider.open(file, { create: false })).toThrow(
      expect.objectContaining({ code: 'MASTER_KEY_MISSING' }),
    );
    const provider = LocalKeyProvider.open(file, { create: true });
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const dataKey = randomBytes(32);
    const old = await provider.wrap(dataKey, context);
    expect(provider.addVersion()).toBe('local:2');
    const reopened = LocalKeyProvider.open(file, { create: false });
    expect(await reopened.currentKekId()).toBe('local:2');
    expect(await reopened.unwrap(old, context)).toEqual(dataKey);
    const other = LocalKeyProvider.open(path.join(dir, 'other.keys'), { create: true });
    await expect(other.unwrap(old, context)).rejects.toMatchObject({ code: 'KEY_UNWRAP_FAILED' });
    fs.writeFileSync(path.join(dir, 'bad.keys'), '1 notakey\n');
    expect(() => LocalKeyProvider.open(path.join(dir, 'bad.keys'), { create: false })).toThrow(
      expect.objectContaining({ code: 'MASTER_KEY_INVALID' }),
    );
  });
});
