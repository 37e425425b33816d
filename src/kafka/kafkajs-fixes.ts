/**
 * kafkajs's fixes, installed before kafkajs is first loaded: every module
 * that loads kafkajs imports this module first.
 */
import './kafkajs-stop-fix.ts';
import './kafkajs-grouping-fix.ts';
import './kafkajs-crc-fix.ts';
import './kafkajs-transaction-retry-fix.ts';
