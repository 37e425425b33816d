export { postUntilAccepted, type CollectorClientTally, type PostOptions } from '../../scripts/collector-client.ts';
