import { inspect } from 'node:util';

/** A configuration value that must never be printed: masked by toString, JSON and inspection. */
export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  reveal(): string {
    return this.#value;
  }
  toString(): string {
    return '********';
  }
  toJSON(): string {
    return '********';
  }
  [inspect.custom](): string {
    return 'Secret(********)';
  }
}
