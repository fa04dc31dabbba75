/** Export scenes: the head view as SVG lines and labels, thin rows for long inputs, markup escaped. */
import * as assert from 'assert';
import { headScene, matrixScene, sceneToSvg } from '../../src/view-model/scene';
import { matrixLayout } from '../../src/view-model/layout';

const colors = { aggregateColor: [0, 0, 255] as const, background: [255, 255, 255] as const, foreground: [0, 0, 0] as const };

describe('panel export scenes', () => {
  it('draws one line per link and the focused token bold, with labels escaped', () => {
    const scene = headScene({
      title: 'llama · layer 0', queryLabels: ['<s>', ' Once', ' "upon"'], keyLabels: ['<s>', ' Once', ' "upon"'],
      links: [{ head: 0, query: 2, key: 0, weight: 0.5, opacity: 0.25 }, { head: 3, query: 2, key: 2, weight: 0.5, opacity: 0.25 }],
      focus: { side: 'query', index: 2 }, aggregate: false, ...colors,
    });
    const svg = sceneToSvg(scene);
    assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    assert.strictEqual(svg.match(/<line /g)?.length, 2);
    assert.match(svg, /stroke="#1f77b4" stroke-opacity="0.25"/);
    assert.match(svg, /stroke="#d62728"/);
    assert.ok(svg.includes('>&#60;s&#62;</text>'));
    assert.ok(svg.includes('font-weight="bold" xml:space="preserve"> &#34;upon&#34;</text>'));
    assert.strictEqual(svg.match(/font-weight="bold"/g)?.length, 2, 'the title and the focused query');
  });

  it('thins rows so 2,048 tokens fit a canvas, dropping labels too small to read', () => {
    const labels = Array.from({ length: 2048 }, (_, i) => `t${i}`);
    const scene = headScene({ title: 'long', queryLabels: labels, keyLabels: labels, links: [], focus: null, aggregate: true, ...colors });
    assert.ok(scene.height <= 8100, `height ${scene.height}`);
    assert.strictEqual(scene.texts.length, 1);
  });

  it('puts the matrix heatmap in as one image and thins its labels', () => {
    const layout = matrixLayout(100, 100, 500, 500, 60, 11);
    const scene = matrixScene({ title: 'm', layout, queryLabels: Array(100).fill('q'), keyLabels: Array(100).fill('k'), heatmap: 'data:image/png;base64,AAAA', background: [0, 0, 0], foreground: [255, 255, 255], fontSize: 11 });
    const svg = sceneToSvg(scene);
    assert.strictEqual(svg.match(/<image /g)?.length, 1);
    assert.strictEqual(scene.texts.filter((t) => t.vertical).length, Math.ceil(100 / layout.labelStep));
    assert.ok(layout.labelStep > 1);
  });
});
