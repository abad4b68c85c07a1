#!/usr/bin/env node
// Compiles facilitator_sim/contracts/NAME.sol (contract NAME) with the pinned npm `solc` and
// writes a deterministic JSON artifact (no metadata hash, fixed key order).
//
// Usage: node scripts/build_contract.js NAME [OUTPUT_PATH]
//   NAME is EIP3009Token (the token) or Multicall3 (the call batcher);
//   OUTPUT_PATH defaults to facilitator_sim/contracts/NAME.json.
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const path = require('path');

const REPO_ROOT = path.resolve(__dirname, '..');
const CONTRACTS = ['EIP3009Token', 'Multicall3'];
const SETTINGS = {
  optimizer: { enabled: true, runs: 200 },
  evmVersion: 'cancun',
  metadata: { bytecodeHash: 'none', appendCBOR: false },
};

function fail(message) {
  process.stderr.write(`build_contract: ${message}\n`);
  process.exit(1);
}

function loadSolc() {
  try {
    return require('solc');
  } catch (err) {
    return fail(`cannot load the npm package solc (${err.message}); run \`npm install\` in ${REPO_ROOT}`);
  }
}

function compile(solc, name, sourceUnit, source) {
  const input = {
    language: 'Solidity',
    sources: { [sourceUnit]: { content: source } },
    settings: {
      ...SETTINGS,
      outputSelection: {
        [sourceUnit]: { [name]: ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object'] },
      },
    },
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input)));
  const diagnostics = output.errors || [];
  for (const diagnostic of diagnostics) {
    process.stderr.write(diagnostic.formattedMessage || `${diagnostic.message}\n`);
  }
  const errors = diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0) {
    fail(`${errors.length} compile error(s) in ${sourceUnit}`);
  }
  const contract = output.contracts?.[sourceUnit]?.[name];
  if (!contract || !contract.evm?.deployedBytecode?.object) {
    fail(`solc produced no bytecode for ${name}`);
  }
  return contract;
}

function main() {
  const name = process.argv[2];
  if (!CONTRACTS.includes(name)) {
    fail(`usage: node scripts/build_contract.js NAME [OUTPUT_PATH]; NAME is one of ${CONTRACTS.join(', ')}`);
  }
  const sourceUnit = `facilitator_sim/contracts/${name}.sol`;
  const defaultOutput = path.join(REPO_ROOT, 'facilitator_sim', 'contracts', `${name}.json`);
  const outputPath = path.resolve(process.argv[3] || defaultOutput);
  const sourceBytes = fs.readFileSync(path.join(REPO_ROOT, sourceUnit));
  const solc = loadSolc();
  const contract = compile(solc, name, sourceUnit, sourceBytes.toString('utf8'));
  const artifact = {
    contractName: name,
    compiler: solc.version(),
    settings: SETTINGS,
    sourceSha256: crypto.createHash('sha256').update(sourceBytes).digest('hex'),
    abi: contract.abi,
    bytecode: `0x${contract.evm.bytecode.object}`,
    deployedBytecode: `0x${contract.evm.deployedBytecode.object}`,
  };
  fs.mkdirSync(path.dirname(outputPath), { recursive: true });
  fs.writeFileSync(outputPath, `${JSON.stringify(artifact, null, 2)}\n`);
  const shown = path.relative(REPO_ROOT, outputPath);
  const runtimeBytes = (artifact.deployedBytecode.length - 2) / 2;
  process.stdout.write(
    `wrote ${shown.startsWith('..') ? outputPath : shown} (${runtimeBytes} bytes of runtime code)\n`,
  );
}

main();
