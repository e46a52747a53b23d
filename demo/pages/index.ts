/** The demo's front page: what each page shows, the paths page's optimizers and surfaces read from its own lists. */
import { PATH_OPTIMIZERS } from '../paths/paths.js';
import { SURFACES } from '../paths/surfaces.js';
import { demoDevice, renderHeader } from '../../common/page.js';

renderHeader();

/** "a, b and c". */
const listed = (names: readonly string[]) => (names.length < 2 ? names.join('') : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`);

const [first, ...others] = SURFACES;
const item = document.getElementById('pathsItem')!;
item.dataset.optimizers = PATH_OPTIMIZERS.map((o) => o.label).join(',');
item.querySelector('.what')!.textContent =
  ` — ${listed(PATH_OPTIMIZERS.map((o) => o.label))}, one panel each, on f(x, y) = ${first!.formula} from (${first!.start.join(', ')})` +
  ` and on ${listed(others.map((s) => s.label))}; each step computed by the library on the GPU.`;

demoDevice().then(({ device }) => device.destroy()).catch(() => {});
