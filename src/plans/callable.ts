/**
 * A base for classes whose instances are functions (a Plan: `plan(x)` is
 * `plan.run(x)`). JavaScript lets a constructor return another object than
 * the one `new` made: this one returns a function with the prototype of the
 * class being built, so methods, `instanceof`, and the fields of subclasses
 * (private ones too) all apply to that function.
 */
export abstract class CallableInstance<A extends unknown[], R> {
  constructor() {
    const instance: CallableInstance<A, R> = Object.setPrototypeOf(
      function (...args: A) {
        return instance.invoke(...args);
      },
      new.target.prototype,
    );
    return instance;
  }

  /** What calling the instance does. */
  protected abstract invoke(...args: A): R;
}
