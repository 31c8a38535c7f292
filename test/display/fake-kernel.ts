/** A stand-in for the kernel's display bridge, recording what the library sends. */
import { KERNEL_BRIDGE, type KernelBridge, type MimeBundle } from "../../src/core/display-protocol";

export interface Sent {
  kind: "display" | "update";
  bundle: MimeBundle;
  displayId?: string;
  metadata?: Record<string, unknown>;
}

export function installFakeKernel(): { sent: Sent[]; remove: () => void } {
  const sent: Sent[] = [];
  const bridge: KernelBridge = {
    display: (bundle, options) =>
      sent.push({ kind: "display", bundle, displayId: options?.displayId, metadata: options?.metadata }),
    updateDisplay: (bundle, options) =>
      sent.push({ kind: "update", bundle, displayId: options.displayId, metadata: options.metadata }),
  };
  const global = globalThis as Record<symbol, unknown>;
  const previous = global[KERNEL_BRIDGE];
  global[KERNEL_BRIDGE] = bridge;
  return {
    sent,
    remove: () => {
      if (previous === undefined) delete global[KERNEL_BRIDGE];
      else global[KERNEL_BRIDGE] = previous;
    },
  };
}
