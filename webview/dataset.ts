// Preview Dataset: the format, the classes with their split and image count, per-split totals,
// the tasks each split can make, the warnings, and a grid of sample images per class.
import type { HostMessage } from '../src/extension/webviewProtocol';
import { fill, h } from './dom';
import { showError } from './parts';

export function startDataset(app: HTMLElement): (msg: HostMessage) => void {
  fill(app, h('p', { id: 'dataset-loading' }, 'Reading the dataset…'));
  return (msg) => {
    if (msg.type === 'panel/error') {
      showError(app, msg.message);
      return;
    }
    if (msg.type !== 'dataset/init') return;
    const s = msg.summary;
    document.title = `Dataset: ${s.name}`;
    const splitRows = s.splits.map((x) =>
      h(
        'tr',
        { class: 'split-row', 'data-split': x.split, 'data-classes': x.classes, 'data-images': x.images },
        h('td', {}, x.split),
        h('td', { class: 'num' }, String(x.classes)),
        h('td', { class: 'num' }, String(x.images)),
        h('td', { class: 'num' }, x.classes ? `${x.minPerClass}–${x.maxPerClass}` : '–'),
      ),
    );
    const taskRows = s.tasks.map((t) =>
      h(
        'tr',
        { class: `task-row ${t.ok ? 'task-ok' : 'task-no'}`, 'data-split': t.split, 'data-ok': String(t.ok) },
        h('td', {}, t.split),
        h('td', {}, `${t.ways}-way ${t.shots}-shot, ${t.queries} queries`),
        h('td', {}, t.ok ? 'yes' : `no: ${t.why}`),
      ),
    );
    const grid = h('div', { id: 'class-grid' });
    s.classes.forEach((c, i) => {
      grid.append(
        h(
          'figure',
          { class: 'dataset-class', 'data-class': c.name, 'data-count': c.count, 'data-split': c.split ?? '' },
          h('figcaption', {}, h('strong', {}, c.name), ` · ${c.split ?? 'unused'} · ${c.count} images`),
          h(
            'div',
            { class: 'dataset-samples' },
            ...(msg.samples[i] ?? []).map((src, k) => h('img', { src, alt: `${c.name} sample ${k + 1}`, class: 'dataset-sample' })),
          ),
        ),
      );
    });
    fill(
      app,
      h('header', {}, h('h1', { id: 'dataset-name' }, s.name), h('span', { class: 'badge', id: 'dataset-format' }, s.format)),
      h('p', { class: 'dataset-source' }, `${s.source} · ${s.images} images in ${s.classes.length} classes · splits: ${s.splitOrigin}`),
      h('ul', { id: 'dataset-warnings', class: 'result-warnings', hidden: s.warnings.length === 0 }, ...s.warnings.map((w) => h('li', {}, w))),
      h(
        'section',
        { 'aria-label': 'Splits' },
        h('h2', {}, 'Splits'),
        h(
          'table',
          { id: 'split-table', class: 'data-table' },
          h('thead', {}, h('tr', {}, ...['Split', 'Classes', 'Images', 'Images per class'].map((t) => h('th', { scope: 'col' }, t)))),
          h('tbody', {}, ...splitRows),
        ),
      ),
      h(
        'section',
        { 'aria-label': 'Tasks' },
        h('h2', {}, 'Tasks it can make'),
        h(
          'table',
          { id: 'task-table', class: 'data-table' },
          h('thead', {}, h('tr', {}, ...['Split', 'Task', 'Possible?'].map((t) => h('th', { scope: 'col' }, t)))),
          h('tbody', {}, ...taskRows),
        ),
      ),
      h('section', { 'aria-label': 'Classes' }, h('h2', {}, 'Classes and samples'), grid),
    );
    app.setAttribute('aria-busy', 'false');
  };
}
