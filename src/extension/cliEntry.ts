// The robust-meta CLI as a script of the extension (bin/robust-meta.js is not packaged): "Run
// Experiment" runs `robust-meta experiment` through it, in a task terminal.
import { cli } from '../cli/main';

cli();
