// Entry of the panel bundle: picks the view the host asked for (body data-view), forwards host
// messages to it, remembers the panel state for revival, then tells the host it is ready.
import type { PanelKind } from '../src/extension/webviewProtocol';
import { startCompare } from './compare';
import { startDashboard } from './dashboard';
import { startDataset } from './dataset';
import { startExperiment } from './experiment';
import { byId } from './dom';
import { startResult } from './result';
import { onHostMessage, post, saveState } from './vscodeApi';

const kind = document.body.dataset.view as PanelKind;
const app = byId('app');
const view =
  kind === 'dashboard'
    ? startDashboard(app)
    : kind === 'result'
      ? startResult(app)
      : kind === 'dataset'
        ? startDataset(app)
        : kind === 'experiment'
          ? startExperiment(app)
          : startCompare(app);

onHostMessage((msg) => {
  if (msg.type === 'panel/state') saveState(msg.state);
  else view(msg);
});
post({ type: 'view/ready', kind });
