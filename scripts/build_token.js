#!/usr/bin/env node
// Compiles facilitator_sim/contracts/EIP3009Token.sol with the pinned npm `solc` and writes a
// deterministic JSON artifact (no metadata hash, fixed key order).
//
// Usage: node scripts/build_token.js [OUTPUT_PATH]
//   OUTPUT_PATH defaults to facilitator_sim/contracts/EIP3009Token.json.
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const path = require('path');

const REPO_ROOT = path.resolve(__dirname, '..');
const CONTRACT_NAME = 'EIP3009Token';
const SOURCE_UNIT = 'facilitator_sim/contracts/EIP3009Token.sol';
const DEFAULT_OUTPUT = path.join(REPO_ROOT, 'facilitator_sim', 'contracts', 'EIP3009Token.json');
const SETTINGS = {
  optimizer: { enabled: true, runs: 200 },
  evmVersion: 'cancun',
  metadata: { bytecodeHash: 'none', appendCBOR: false },
};

function fail(message) {
  process.stderr.write(`build_token: ${message}\n`);
  process.exit(1);
}

function loadSolc() {
  try {
    return require('solc');
  } catch (err) {
    return fail(`cannot load the npm package solc (${err.message}); run \`npm install\` in ${REPO_ROOT}`);
  }
}

function compile(solc, source) {
  const input = {
    language: 'Solidity',
    sources: { [SOURCE_UNIT]: { content: source } },
    settings: {
      ...SETTINGS,
      outputSelection: {
        [SOURCE_UNIT]: { [CONTRACT_NAME]: ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object'] },
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
    fail(`${errors.length} compile error(s) in ${SOURCE_UNIT}`);
  }
  const contract = output.contracts?.[SOURCE_UNIT]?.[CONTRACT_NAME];
  if (!contract || !contract.evm?.deployedBytecode?.object) {
    fail(`solc produced no bytecode for ${CONTRACT_NAME}`);
  }
  return contract;
}

function main() {
  const outputPath = path.resolve(process.argv[2] || DEFAULT_OUTPUT);
  const sourceBytes = fs.readFileSync(path.join(REPO_ROOT, SOURCE_UNIT));
  const solc = loadSolc();
  const contract = compile(solc, sourceBytes.toString('utf8'));
  const artifact = {
    contractName: CONTRACT_NAME,
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
