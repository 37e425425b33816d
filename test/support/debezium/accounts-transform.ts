import type { TransformOutput } from '../../../src/transform/contract.ts';

/** The accounts table's model: the captured row, renamed; a deleted account's model row goes too. */
export default function transform(account: Record<string, unknown>): TransformOutput {
  return {
    fct_accounts: {
      account_id: account.id,
      owner: account.owner,
      balance: account.balance,
      opened: account.opened,
      updated_at: account.updated_at,
      visits: account.visits,
    },
  };
}

export const remove = (account: Record<string, unknown>): TransformOutput => ({ fct_accounts: { account_id: account.id } });
