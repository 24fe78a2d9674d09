// The labs feature's public surface: what the page imports. See src/labs/README.md ("Wiring into the page").
export { mountLabPanel, type LabPanelDeps, type LabPanelEvent, type LabPanelHandle, type StepStatus } from './lab-panel.ts';
export { mountLabAuthor, NEW_LAB_TEMPLATE, type LabAuthorDeps, type LabAuthorHandle } from './author.ts';
export { loadLabFromLocation, fromSource, type LoadLabResult, type LoadedLab } from './load-lab.ts';
export { makeShareLink, type LabLinkError, type LabOrigin } from './lab-link.ts';
export { parseLab } from './parse-lab.ts';
export { commandAsTyped } from './terminal-input.ts';
export { formatLabProblem, type Lab, type LabProblem } from './lab-format.ts';
export { EXAMPLE_LABS, EXAMPLE_LAB_IDS } from './examples/index.ts';
export { connectEmbedBridge, postEmbedEvent, allowedOriginsFromLocation, parseEmbedRequest, type EmbedEvent, type EmbedRequest } from './embed-api.ts';
export { watchCommands, type CommandWatch } from './command-watch.ts';
