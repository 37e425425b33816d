import { InvalidArgumentError, Option } from 'commander';

export function positiveInteger(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number <= 0) throw new InvalidArgumentError('must be a positive integer');
  return number;
}

export const pipelineOption = () => new Option('-p, --pipeline <file>', 'the pipeline spec (YAML)').makeOptionMandatory();
