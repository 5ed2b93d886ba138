/**
 * The Convert function built for arm64 (`convertArchitecture: arm64`): its asset carries the
 * linux-arm64 DuckDB binding, fetched at synth by `npm pack` at the version and integrity the lock
 * file pins, and no x64 one. Reads the binding's ELF header (machine AArch64). It needs the npm
 * registry, so it runs apart from `npm test`: `npm run test:arm64` (vitest.arm64.config.ts). The
 * binding cannot run on this x64 machine; only its presence and machine are proven here.
 */
import { existsSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildTestLake, TEST_CONTEXT } from './synth.ts';

/** The ELF e_machine field of a native library (byte 18, little-endian). */
async function elfMachine(path: string): Promise<number> {
  const handle = await open(path, 'r');
  try {
    const header = Buffer.alloc(20);
    await handle.read(header, 0, 20, 0);
    expect(header.subarray(0, 4).toString('latin1')).toBe('\x7fELF');
    return header.readUInt16LE(18);
  } finally {
    await handle.close();
  }
}

describe('the Convert function for arm64', () => {
  it('is arm64 and its asset carries the AArch64 DuckDB binding, and no x64 one', async () => {
    // Act
    const { app, pipeline } = await buildTestLake(
      { ...TEST_CONTEXT, convertArchitecture: 'arm64' },
      {},
      { bundle: true },
    );
    const assembly = app.synth();
    const template = assembly.getStackByName(pipeline.stackName).template as {
      Resources: Record<
        string,
        { Type: string; Properties: { Architectures?: string[]; Code?: { S3Key?: string } } }
      >;
    };

    // Assess
    const [convert, ...others] = Object.entries(template.Resources).filter(
      ([id, r]) => r.Type === 'AWS::Lambda::Function' && id.startsWith('ConvertFunction'),
    );
    expect(others).toEqual([]);
    expect(convert![1].Properties.Architectures).toEqual(['arm64']);
    const asset = join(
      assembly.directory,
      `asset.${convert![1].Properties.Code!.S3Key!.replace(/\.zip$/, '')}`,
    );
    const modules = join(asset, 'node_modules/@duckdb');
    // 0xb7 is AArch64 (0x3e would be x86-64).
    expect(await elfMachine(join(modules, 'node-bindings-linux-arm64/duckdb.node'))).toBe(0xb7);
    expect(await elfMachine(join(modules, 'node-bindings-linux-arm64/libduckdb.so'))).toBe(0xb7);
    expect(existsSync(join(modules, 'node-bindings-linux-x64'))).toBe(false);
    expect(existsSync(join(modules, 'node-bindings/duckdb.js'))).toBe(true);
    expect(existsSync(join(asset, '.duckdb-pack'))).toBe(false);
  }, 180_000);
});
