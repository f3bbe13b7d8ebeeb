import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

/**
 * A confusion matrix as an SVG heat map (vega-lite, rendered headless by vega's SVG renderer): reference class down,
 * predicted class across, each cell labelled with its count and shaded by the share of its reference row, so rare
 * classes (S, F) are as readable as N.
 */
export async function confusionMatrixSvg(confusion: readonly (readonly number[])[], classes: readonly string[], title: string): Promise<string> {
  const cells = confusion.flatMap((row, r) => {
    const total = row.reduce((a, b) => a + b, 0);
    return row.map((count, p) => ({ reference: classes[r], predicted: classes[p], count, rowShare: total > 0 ? count / total : 0 }));
  });
  const axisOrder = [...classes];
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title,
    data: { values: cells },
    width: 48 * classes.length,
    height: 48 * classes.length,
    encoding: {
      x: { field: 'predicted', type: 'nominal', sort: axisOrder, title: 'predicted class' },
      y: { field: 'reference', type: 'nominal', sort: axisOrder, title: 'reference class' },
    },
    layer: [
      { mark: 'rect', encoding: { color: { field: 'rowShare', type: 'quantitative', title: 'share of row', scale: { scheme: 'blues', domain: [0, 1] } } } },
      {
        mark: { type: 'text', fontSize: 11 },
        encoding: {
          text: { field: 'count', type: 'quantitative' },
          color: { condition: { test: 'datum.rowShare > 0.5', value: 'white' }, value: 'black' },
        },
      },
    ],
  };
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}
