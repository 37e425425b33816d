/**
 * kelt's dependency rules, checked by `npm run check` (dependency-cruiser):
 * no import cycles; each library used only inside its adapter; src/ in
 * ordered layers; tests reach kafkajs only through test/support.
 */
/**
 * src/ in layers, lowest first: a folder imports only from its own layer and
 * the ones below. The base (settings, logging, exact values, the transform
 * contract, retries); the clients and codecs (Avro, the registry, Debezium's
 * events, Kafka); kelt's own model (records' headers, the pipeline spec, ACL
 * policy, the thread protocol); MySQL; the commands' machinery (connections,
 * status, migrate, produce, the DLQ tools); the stages and health; what
 * serves them (the collector, HTTP, replay, metrics); the CLI.
 */
const layers = [
  ['config', 'log', 'values', 'transform', 'retry'],
  ['avro', 'registry', 'debezium', 'kafka'],
  ['records', 'pipeline', 'access', 'threads'],
  ['mysql'],
  ['runtime', 'status', 'migrate', 'produce', 'dead-letters'],
  ['health', 'stages'],
  ['collect', 'http', 'replay', 'metrics'],
  ['cli'],
];
// A new folder under src/ has to be given its layer: the check refuses to run without one.
const unlayered = require('node:fs')
  .readdirSync(require('node:path').join(__dirname, 'src'), { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && !layers.flat().includes(entry.name))
  .map((entry) => `src/${entry.name}`);
if (unlayered.length > 0) throw new Error(`.dependency-cruiser.cjs: give ${unlayered.join(', ')} a layer`);
const layerRules = layers.flatMap((layer, i) => {
  const above = layers.slice(i + 1).flat();
  return above.length === 0
    ? []
    : [
        {
          name: `layer-${i + 1}-imports-no-layer-above`,
          severity: 'error',
          comment: `src/${layer.join(', src/')} must not import from a layer above theirs (${above.join(', ')}).`,
          from: { path: `^src/(${layer.join('|')})/` },
          to: { path: `^src/(${above.join('|')})/` },
        },
      ];
});

module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      severity: 'error',
      comment: 'An import cycle (type-only ones too) ties modules that should each make sense alone.',
      from: { path: '^(src|workers)/' },
      to: { circular: true },
    },
    {
      name: 'kafkajs-only-in-the-kafka-adapter',
      severity: 'error',
      comment: 'kafkajs types and calls stay in src/kafka/; other folders use kelt’s own record and client types.',
      from: { path: '^(src|workers)/', pathNot: '^src/kafka/' },
      to: { path: 'node_modules/kafkajs/' },
    },
    {
      name: 'mysql2-only-in-the-mysql-adapter',
      severity: 'error',
      comment: 'mysql2 stays in src/mysql/.',
      from: { path: '^(src|workers)/', pathNot: '^src/mysql/' },
      to: { path: 'node_modules/mysql2/' },
    },
    ...layerRules,
    {
      name: 'tests-reach-kafkajs-through-test-support',
      severity: 'error',
      comment:
        'A test drives Kafka through kelt’s adapter or test/support (test/support/kafka.ts is the one door to kafkajs); the adapter’s own unit tests excepted.',
      from: { path: '^test/', pathNot: '^test/(support|unit/kafka)/' },
      to: { path: 'node_modules/kafkajs/' },
    },
    {
      name: 'product-code-does-not-import-tests-or-scripts',
      severity: 'error',
      from: { path: '^(src|workers)/' },
      to: { path: '^(test|scripts)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
