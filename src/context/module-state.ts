/**
 * Per-instance module state. Each proxy instance keeps one ModuleStates: a module's init (Kamailio's
 * mod_init) makes its state object and the instance stores it under the module's key; the module's
 * KSR functions reach it from the message context with `KEY.of(ctx)`. Nothing is kept at module
 * level, so two proxies in one process share nothing.
 */
/** What a key reads its state through: a message context (`ctx.proxy.modules`) or anything shaped so. */
interface HasInstance {
  readonly proxy: { readonly modules: ModuleStates };
}

/** A typed handle on one module's state, declared once by the module that owns the state. */
export class ModuleKey<S> {
  /** Phantom field: ties the key to its state type. */
  declare readonly stateType: S;

  constructor(readonly name: string) {}

  /** This module's state in the proxy instance the message belongs to; throws when not loaded. */
  of(ctx: HasInstance): S {
    return ctx.proxy.modules.get(this);
  }

  /** The state, or undefined when the module is not loaded in that instance. */
  find(ctx: HasInstance): S | undefined {
    return ctx.proxy.modules.find(this);
  }
}

export class ModuleStates {
  private readonly states = new Map<ModuleKey<unknown>, unknown>();

  set<S>(key: ModuleKey<S>, state: S): void {
    this.states.set(key, state);
  }

  get<S>(key: ModuleKey<S>): S {
    const s = this.states.get(key);
    if (s === undefined) throw new Error(`module ${key.name} is not loaded`);
    return s as S;
  }

  find<S>(key: ModuleKey<S>): S | undefined {
    return this.states.get(key) as S | undefined;
  }

  delete(key: ModuleKey<unknown>): void {
    this.states.delete(key);
  }
}
