// The "Network" button in the page header and its dialog: the CORS proxy URL, the Docker Hub upstream mirror and
// the TCP relay URL, validated as typed (worker/shared/network-options.ts), a new relay tried before it is saved
// (src/relay-check.ts), remembered in this browser, applied on the next VM start.
import './net-settings.css';
import { parseProxyUrl, parseRelayUrl, parseUpstreamMirror, type FieldResult } from '../worker/shared/network-options.ts';
import { loadNetSettings, sameNetSettings, saveNetSettings, type NetDefaults, type NetSettings, type SettingsStorage } from './net-settings.ts';
import { checkRelay } from './relay-check.ts';
import { el } from './dom.ts';

export interface NetSettingsDialogOptions {
  storage: SettingsStorage;
  baseUri: string;
  /** The proxy and relay used when their fields are empty (src/net-settings.ts networkDefaults). */
  defaults: NetDefaults;
  /** Tries a relay URL; undefined when it answered (default: src/relay-check.ts). */
  checkRelay?: (url: string) => Promise<string | undefined>;
  /** The settings the running VM started with (they change only at the next start). */
  inEffect(): NetSettings;
  /** Saved settings and a restart was asked for. */
  restart(): void;
  /** Saved (with or without restart): the page says when they apply. */
  onSaved(settings: NetSettings, restarting: boolean): void;
}

interface Field {
  input: HTMLInputElement;
  error: HTMLElement;
}

let nextId = 0;

export class NetSettingsDialog {
  private readonly dialog: HTMLDialogElement;
  private readonly proxy: Field;
  private readonly mirror: Field;
  private readonly relay: Field;
  /** A relay URL that failed its check and was kept anyway by pressing Save again. */
  private relayKeptUnchecked: string | undefined;
  private readonly pending: HTMLElement;
  private readonly storageProblem: HTMLElement;

  constructor(header: HTMLElement, private readonly options: NetSettingsDialogOptions) {
    const opener = el('button', 'net-settings-open', 'Network…');
    opener.title = 'CORS proxy and Docker Hub mirror used by docker pull; the relay for other TCP from containers';
    opener.setAttribute('aria-haspopup', 'dialog');
    opener.addEventListener('click', () => this.open());

    this.dialog = document.createElement('dialog');
    this.dialog.className = 'net-settings';
    const titleId = `net-settings-title-${nextId++}`;
    this.dialog.setAttribute('aria-labelledby', titleId);
    const form = el('form');
    form.noValidate = true;
    const title = el('h2');
    title.id = titleId;
    title.textContent = 'Network settings';
    const intro = el('p', 'net-settings-note');
    intro.textContent =
      'docker pull in the VM reaches registries through a CORS proxy; every other connection a container makes ' +
      '(HTTPS, docker push, git) goes through a TCP relay. The fields are remembered in this browser; leave a field ' +
      'empty for the default. Changes apply when the VM next starts.';
    this.proxy = this.field(form, 'CORS proxy URL', options.defaults.proxyUrl, `Default: ${options.defaults.proxyUrl}. Run your own with npm run proxy.`);
    this.mirror = this.field(
      form,
      'Docker Hub upstream mirror',
      'registry-1.docker.io',
      'Used instead of Docker Hub, e.g. mirror.gcr.io or http://127.0.0.1:5000. The proxy must allow its host (TABDOCK_PROXY_ALLOW).',
    );
    this.relay = this.field(
      form,
      'TCP relay URL',
      options.defaults.relayUrl,
      `Default: ${options.defaults.relayUrl}. A Wisp relay, e.g. npm run proxy's ws://127.0.0.1:8787/wisp/; a token goes in the path; off turns it off.`,
    );
    this.storageProblem = document.createElement('p');
    this.storageProblem.className = 'net-settings-error';
    this.storageProblem.hidden = true;
    this.pending = document.createElement('p');
    this.pending.className = 'net-settings-pending';
    this.pending.setAttribute('aria-live', 'polite');

    const buttons = el('div', 'net-settings-buttons');
    const reset = this.button('Reset to default', 'button', () => {
      this.proxy.input.value = '';
      this.mirror.input.value = '';
      this.relay.input.value = '';
      this.clearErrors();
      this.showPending();
    });
    const cancel = this.button('Cancel', 'button', () => this.dialog.close());
    const save = this.button('Save', 'submit', () => undefined);
    save.value = 'save';
    const saveRestart = this.button('Save and restart', 'submit', () => undefined);
    saveRestart.value = 'restart';
    saveRestart.classList.add('primary');
    buttons.append(reset, cancel, save, saveRestart);

    form.prepend(title, intro);
    form.append(this.storageProblem, this.pending, buttons);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const submitter = (event as SubmitEvent).submitter;
      void this.submit(submitter instanceof HTMLButtonElement && submitter.value === 'restart');
    });
    form.addEventListener('input', () => this.showPending());
    this.dialog.append(form);
    header.append(opener);
    document.body.append(this.dialog);
  }

  open(): void {
    const loaded = loadNetSettings(this.options.storage, this.options.baseUri);
    this.proxy.input.value = loaded.settings.proxyUrl ?? '';
    this.mirror.input.value = loaded.settings.upstreamMirror ?? '';
    this.relay.input.value = loaded.settings.relayUrl ?? '';
    this.relayKeptUnchecked = undefined;
    this.storageProblem.hidden = loaded.problem === undefined;
    this.storageProblem.textContent = loaded.problem ?? '';
    this.clearErrors();
    this.showPending();
    this.dialog.showModal();
    this.proxy.input.focus();
  }

  private checking = false;

  private async submit(restart: boolean): Promise<void> {
    if (this.checking) return;
    this.clearErrors();
    const fields: Array<[Field, FieldResult]> = [
      [this.proxy, parseProxyUrl(this.proxy.input.value, this.options.baseUri)],
      [this.mirror, parseUpstreamMirror(this.mirror.input.value)],
      [this.relay, parseRelayUrl(this.relay.input.value, this.options.baseUri)],
    ];
    const firstBad = fields.find(([, result]) => !result.ok);
    for (const [field, result] of fields) if (!result.ok) this.invalid(field, result.error);
    if (firstBad) {
      firstBad[0].input.focus();
      return;
    }
    const [proxy, mirror, relay] = fields.map(([, result]) => (result.ok ? result.value : undefined));
    const settings: NetSettings = {};
    if (proxy !== undefined) settings.proxyUrl = proxy;
    if (mirror !== undefined) settings.upstreamMirror = mirror;
    if (relay !== undefined) settings.relayUrl = relay;
    // A relay URL the user typed is tried once before it is kept; one that does not answer is kept only when
    // Save is pressed again (it may be started later).
    const stored = loadNetSettings(this.options.storage, this.options.baseUri).settings.relayUrl;
    if (relay !== undefined && relay !== 'off' && relay !== stored && relay !== this.relayKeptUnchecked) {
      this.checking = true;
      this.pending.textContent = `Trying the relay at ${relay}…`;
      const problem = await (this.options.checkRelay ?? checkRelay)(relay).finally(() => {
        this.checking = false;
      });
      if (problem !== undefined) {
        this.relayKeptUnchecked = relay;
        this.invalid(this.relay, `The relay did not answer: ${problem}. Check the URL (and its token), or press Save again to keep it anyway.`);
        this.relay.input.focus();
        this.showPending();
        return;
      }
    }
    try {
      saveNetSettings(this.options.storage, settings);
    } catch (error) {
      // Not remembered, but still used for this page's next start: nothing the user typed is lost.
      this.storageProblem.hidden = false;
      this.storageProblem.textContent = error instanceof Error ? error.message : String(error);
    }
    this.dialog.close();
    this.options.onSaved(settings, restart);
    if (restart) this.options.restart();
  }

  /** Says whether what is in the fields differs from what the running VM uses. */
  private showPending(): void {
    const proxy = parseProxyUrl(this.proxy.input.value, this.options.baseUri);
    const mirror = parseUpstreamMirror(this.mirror.input.value);
    const relay = parseRelayUrl(this.relay.input.value, this.options.baseUri);
    if (!proxy.ok || !mirror.ok || !relay.ok) {
      this.pending.textContent = '';
      return;
    }
    const typed: NetSettings = {};
    if (proxy.value !== undefined) typed.proxyUrl = proxy.value;
    if (mirror.value !== undefined) typed.upstreamMirror = mirror.value;
    if (relay.value !== undefined) typed.relayUrl = relay.value;
    this.pending.textContent = sameNetSettings(typed, this.options.inEffect())
      ? 'These are the settings the running VM uses.'
      : 'The running VM keeps its current settings until it restarts.';
  }

  private field(form: HTMLFormElement, label: string, placeholder: string, help: string): Field {
    const id = `net-settings-field-${nextId++}`;
    const wrapper = el('div', 'net-settings-field');
    const labelElement = el('label');
    labelElement.htmlFor = id;
    labelElement.textContent = label;
    const input = el('input');
    input.id = id;
    input.type = 'text';
    input.inputMode = 'url';
    input.autocomplete = 'off';
    input.spellcheck = false;
    input.placeholder = placeholder;
    const helpElement = el('p');
    helpElement.id = `${id}-help`;
    helpElement.className = 'net-settings-help';
    helpElement.textContent = help;
    const error = el('p');
    error.id = `${id}-error`;
    error.className = 'net-settings-error';
    error.hidden = true;
    input.setAttribute('aria-describedby', `${helpElement.id} ${error.id}`);
    wrapper.append(labelElement, input, helpElement, error);
    form.append(wrapper);
    return { input, error };
  }

  private button(label: string, type: 'button' | 'submit', onClick: () => void): HTMLButtonElement {
    const button = el('button');
    button.type = type;
    button.textContent = label;
    if (type === 'button') button.addEventListener('click', onClick);
    return button;
  }

  private invalid(field: Field, message: string): void {
    field.input.setAttribute('aria-invalid', 'true');
    field.error.hidden = false;
    field.error.setAttribute('role', 'alert');
    field.error.textContent = message;
  }

  private clearErrors(): void {
    for (const field of [this.proxy, this.mirror, this.relay]) {
      field.input.removeAttribute('aria-invalid');
      field.error.hidden = true;
      field.error.removeAttribute('role');
      field.error.textContent = '';
    }
  }
}
