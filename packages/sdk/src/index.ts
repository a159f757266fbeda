/** @parley/sdk — placeholder entry replaced by the SDK work. */
export {};
