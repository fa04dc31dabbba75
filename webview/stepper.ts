/**
 * The generation bar above the views (generation runs only): the prompt and the generated text, which
 * grows as steps stream in, and a stepper over the generated tokens — previous, a slider, next (the
 * slider takes the arrow keys, Home and End). Choosing token k shows step k, the step that generated it,
 * in every view: its query row is the locked focus and the Generation view shows it layer by layer.
 */
import type { GeneratedTokenMessage } from '../src/protocol/messages';
import { isSpecialToken, stepRow, tokenPiece } from '../src/view-model/generation';
import { tokenLabel } from '../src/view-model/tokens';
import { h } from './dom';
import type { ViewContext } from './views/view';

export class Stepper {
  readonly element = h('section', { class: 'stepper', 'aria-label': 'Generated tokens', hidden: true });
  private readonly prompt = h('span', { class: 'gen-prompt' });
  private readonly tokens = h('span', { class: 'gen-tokens' });
  private readonly previous = h('button', { class: 'step-button', id: 'step-previous', 'aria-label': 'Previous generated token', title: 'Previous generated token' }, '◀');
  private readonly slider = h('input', { class: 'step-slider', id: 'step-slider', type: 'range', min: 0, max: 0, step: 1, value: 0, 'aria-label': 'Generated token' });
  private readonly next = h('button', { class: 'step-button', id: 'step-next', 'aria-label': 'Next generated token', title: 'Next generated token' }, '▶');
  private readonly caption = h('span', { class: 'step-caption', id: 'step-caption' });
  private shownRun = -1;

  constructor(choose: (step: number) => void) {
    const by = (delta: number) => () => choose(Number(this.slider.value) + delta);
    this.previous.addEventListener('click', by(-1));
    this.next.addEventListener('click', by(1));
    this.slider.addEventListener('input', () => choose(Number(this.slider.value)));
    this.tokens.addEventListener('click', (e) => {
      const step = (e.target as HTMLElement).closest<HTMLElement>('.gen-token')?.dataset.step;
      if (step !== undefined) choose(Number(step));
    });
    this.element.append(
      h('p', { class: 'gen-text', 'aria-label': 'Prompt and generated text' }, this.prompt, this.tokens),
      h('div', { class: 'step-controls' }, this.previous, this.slider, this.next, this.caption),
    );
  }

  sync(ctx: ViewContext): void {
    const run = ctx.run, started = run.started;
    this.element.hidden = !started?.generation;
    if (!started?.generation) {
      delete this.element.dataset.step;
      return;
    }
    if (this.shownRun !== run.id) {
      this.shownRun = run.id;
      const source = started.source;
      this.prompt.textContent = (source.text ?? source.tokens.map(tokenLabel).join('')) + (started.model.kind === 'encoder-decoder' ? ' → ' : '');
      this.tokens.replaceChildren();
    }
    const generated = run.generated();
    // The text grows by the tokens that arrived since the last sync.
    for (let step = this.tokens.childElementCount; step < generated.length; step++) this.tokens.append(tokenSpan(generated[step]));
    const count = generated.length;
    const step = count ? Math.min(ctx.selection.step ?? count - 1, count - 1) : 0;
    this.tokens.querySelectorAll('.gen-token.current').forEach((e) => {
      e.classList.remove('current');
      e.removeAttribute('aria-current');
    });
    const current = this.tokens.children[step];
    current?.classList.add('current');
    current?.setAttribute('aria-current', 'step');
    this.slider.max = String(Math.max(0, count - 1));
    this.slider.value = String(step);
    this.slider.disabled = count === 0;
    this.previous.disabled = count === 0 || step === 0;
    this.next.disabled = step >= count - 1;
    const text = count ? describeStep(ctx, generated, step) : run.state === 'running' ? 'Generating the first token…' : 'No token was generated.';
    this.slider.setAttribute('aria-valuetext', text);
    const progress = run.state === 'running' ? ` · generating: ${count} of up to ${started.generation.maxNewTokens}` : ` · ${count} token${count === 1 ? '' : 's'} generated`;
    this.caption.textContent = text + progress;
    this.element.dataset.step = String(step);
    this.element.dataset.generated = String(count);
  }
}

function tokenSpan(token: GeneratedTokenMessage): HTMLElement {
  const special = isSpecialToken(token.text);
  return h('span', { class: `gen-token${special ? ' special' : ''}`, 'data-step': token.step, title: `Step ${token.step + 1}: “${tokenLabel(token.text)}” (id ${token.id})` }, special ? token.text : tokenPiece(token.text));
}

function describeStep(ctx: ViewContext, generated: readonly GeneratedTokenMessage[], step: number): string {
  const started = ctx.run.started!;
  const kind = started.model.kind;
  const queries = ctx.run.queryTokens(kind === 'encoder-decoder' ? 'decoder' : 'self');
  const row = stepRow(kind, started.source.tokens.length, step);
  const query = queries?.tokens[row];
  const seen = kind === 'encoder-decoder' ? `${row + 1} decoder tokens and ${started.source.tokens.length} source tokens` : `${row + 1} tokens`;
  return `Token ${step + 1} of ${generated.length}: “${tokenLabel(generated[step].text)}”, generated after “${query === undefined ? '?' : tokenLabel(query)}” attended to ${seen}`;
}
