/**
 * kafkajs's fixes, installed before kafkajs is first loaded: every module
 * that loads kafkajs imports this module first.
 *
 * The ledger: every patch of kafkajs and every workaround of one of its
 * bugs, where it lives, what proves it, and when it can go. Each is written
 * against kafkajs 2.2.4 (the last release, 2023): loading any other version
 * fails here, so that an upgrade re-reads this list instead of silently
 * patching code that moved.
 *
 * | bug | upstream | where | test | remove when |
 * |---|---|---|---|---|
 * | a stopping consumer's fetchers restart and spin at 100% CPU when the brokers change | #1384, #1387 (PR #1402 fixed only the no-broker case) | kafkajs-stop-fix.ts (patches consumer/fetchManager) | test/unit/kafka/kafkajs-stop-fix.test.ts, test/faults/sigterm.test.ts | a release fixes the fetch manager's stop |
 * | a send's messages grouped by partition in quadratic time (4–6% CPU) | none found | kafkajs-grouping-fix.ts (producer/groupMessagesPerPartition) | kafkajs-grouping-fix.test.ts | a release groups in one pass |
 * | CRC-32C computed per byte in JavaScript (3–4% CPU) | none found | kafkajs-crc-fix.ts (protocol/recordBatch/crc32C) | kafkajs-crc-fix.test.ts | a release uses a native CRC |
 * | every record, header and batch of a Produce request built in its own Encoder and copied into the next (about half of a producing stage's main thread) | none found | produce-request-encoder.ts, kafkajs-produce-encoding-fix.ts (protocol/requests/produce/v3/request) | produce-request-encoder.test.ts (byte for byte against kafkajs's request, decoded by kafkajs), test/integration/produced-records-java.test.ts (read back by Kafka's Java consumer) | a release encodes a batch in one buffer |
 * | every fetched record's offset and timestamp parsed from the batch's strings into Longs, and its headers object rebuilt per header | none found | kafkajs-record-decoding-fix.ts (protocol/recordBatch/record/v0/decoder) | kafkajs-record-decoding-fix.test.ts (equal to kafkajs's own records, fast-check), every consuming test | a release parses a batch's bases once |
 * | AddOffsetsToTxn never retried on CONCURRENT_TRANSACTIONS, AddPartitionsToTxn only from 100 ms | #430, #304 | kafkajs-transaction-retry-fix.ts (producer/eosManager) | kafkajs-transaction-retry-fix.test.ts, test/faults/coordinator-loss.test.ts | a release retries both from 20 ms (KAFKA-5477) |
 * | a send spanning brokers can drop a partition's records after NOT_LEADER and still resolve | PR #1798 (unreleased) | send.ts: one partition per request | test/unit/kafka/send.test.ts, the fault tests | PR #1798 released |
 * | a read_committed consumer hands out records of aborted transactions when several producers' aborted transactions overlap in a partition (the abort list walked as if sorted by first offset, one per record), or a data record is keyed by four zero bytes | none found | kafkajs-aborted-records-fix.ts (consumer/filterAbortedMessages) | kafkajs-aborted-records-fix.test.ts, test/integration/aborted-transactions.test.ts, coordinator-loss | a release filters as the Java consumer does |
 * | no topic ids (Metadata up to v6) | KIP-516 not implemented | topic-ids.ts: a Metadata v12 request on kafkajs's connection, admin.topicIds (patches admin/index) | test/unit/kafka/topic-ids.test.ts, test/integration/raw-topic-recreated.test.ts | kafkajs returns topic ids |
 * | a send to a partition missing from the client's metadata resolves without sending it (findLeaderForPartitions skips it) | none found | send.ts: a send without an answer for its partition fails (UnsentPartitionError) | test/unit/kafka/send.test.ts | a release raises for an unknown partition |
 * | a failed EndTxn leaves the transaction in COMMITTING, neither commit nor abort allowed | none found | partition-transactions.ts: settle through a new producer | partition-transactions.test.ts, coordinator-loss | kafkajs can retry EndTxn |
 * | no KIP-447: sendOffsets carries no group generation | KIP-447 not implemented | partition-transactions.ts: a transactional id per input partition fences zombies | partition-transactions.test.ts, rebalance fault tests | kafkajs implements KIP-447 |
 * | connect() of a transactional producer does not initialise its id | — | transactional-client.ts: an empty aborted transaction at connect | partition-transactions.test.ts | connect() initialises it |
 * | a FindCoordinator refused for want of an ACL is swallowed: "Failed to find group coordinator", the reason lost | none found | kafkajs-authorization-fix.ts (cluster/brokerPool withBroker) | kafkajs-authorization-fix.test.ts, test/integration/secured-stack.test.ts | a release stops swallowing withBroker's errors |
 * | SASL/OAUTHBEARER takes the broker's error challenge (a refused token) for success; the connection is then closed | #1505 (related) | security.ts: kelt's own OAUTHBEARER authenticator | test/unit/kafka/security.test.ts, test/integration/secured-stack.test.ts | a release reads the challenge |
 * | the request queue arms setTimeout with a negative delay and Node warns on every client | none found | scripts/with-node: --disable-warning=TimeoutNegativeWarning | CI's quiet output | a release clamps the delay |
 * | the idempotent producer warns whenever its retries are bounded | — | client.ts: that warning filtered from the log | — | a release drops the warning |
 */
import './kafkajs-version.ts';
import './kafkajs-stop-fix.ts';
import './kafkajs-grouping-fix.ts';
import './kafkajs-crc-fix.ts';
import './kafkajs-produce-encoding-fix.ts';
import './kafkajs-record-decoding-fix.ts';
import './kafkajs-transaction-retry-fix.ts';
import './kafkajs-authorization-fix.ts';
import './kafkajs-aborted-records-fix.ts';
import './topic-ids.ts';
