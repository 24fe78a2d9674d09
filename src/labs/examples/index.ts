// The labs bundled with tabdock, by id: `?lab=docker-basics` opens one without any network fetch.
/// <reference types="vite/client" />
import dockerBasics from './docker-basics.md?raw';
import buildAnImage from './build-an-image.md?raw';
import multiContainer from './multi-container.md?raw';

export interface ExampleLab {
  id: string;
  source: string;
}

export const EXAMPLE_LABS: readonly ExampleLab[] = [
  { id: 'docker-basics', source: dockerBasics },
  { id: 'build-an-image', source: buildAnImage },
  { id: 'multi-container', source: multiContainer },
];

export const EXAMPLE_LAB_IDS: readonly string[] = EXAMPLE_LABS.map((lab) => lab.id);
