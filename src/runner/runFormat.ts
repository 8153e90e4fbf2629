// The run folder's files are declared in src/formats/run.ts (types and validators, dependency-free
// so the webview reads them too); re-exported here for the runner's modules.
export { RUN_FORMAT_VERSION, type MetricLine, type RunConfigFile, type RunState, type SampleSet } from '../formats/run';
