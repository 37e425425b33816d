/**
 * kelt's dependency rules, checked by `npm run check` (dependency-cruiser):
 * no import cycles; each library used only inside its adapter; the
 * adapters and the pipeline model never reach up into the stages.
 */
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
    {
      name: 'adapters-do-not-import-stages',
      severity: 'error',
      comment:
        'src/kafka, src/mysql, src/registry, src/avro, src/pipeline, src/values, src/retry, src/records and src/dead-letters are below the stages: they must not import them.',
      from: { path: '^src/(kafka|mysql|registry|avro|pipeline|values|retry|records|dead-letters)/' },
      to: { path: '^src/stages/' },
    },
    {
      name: 'records-below-stages-and-tools',
      severity: 'error',
      comment:
        'src/records (the headers kelt writes and reads: origin, op, dead letter) is below the stages, the DLQ tools and the MySQL adapter that use it.',
      from: { path: '^src/records/' },
      to: { path: '^src/(stages|dead-letters|mysql|cli|replay|collect|http)/' },
    },
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
