/** A clock the test moves by hand, so limits can be exhausted and waited out without sleeping. */
export class ManualClock {
  constructor(public now = Date.UTC(2026, 10, 22, 12, 0, 0)) {}
  readonly read = (): number => this.now;
  advance(ms: number): void {
    this.now += ms;
  }
}
