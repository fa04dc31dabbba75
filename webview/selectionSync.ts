/**
 * Tells the host what the panel shows (`selection-changed`), so the editor's hovers and heat overlay
 * follow it: at most once per animation frame, and only when the message would differ from the last.
 */
import type { SelectionChanged } from '../src/protocol/messages';

export class SelectionSync {
  private frame = 0;
  private last = '';

  constructor(private readonly post: (message: SelectionChanged) => void, private readonly read: () => SelectionChanged | undefined) {}

  schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      const message = this.read();
      const text = message ? JSON.stringify(message) : '';
      if (!message || text === this.last) return;
      this.last = text;
      this.post(message);
    });
  }

  /** A new run: the host forgot the selection, so the next one is sent even when it reads the same. */
  reset(): void {
    this.last = '';
  }
}
