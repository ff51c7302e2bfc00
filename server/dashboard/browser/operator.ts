/** The operator controls in the header: token, suspend and resume all, trading state, kill switch. */
import { api, notify, setToken, showError, token } from './api.js';
import { model } from './state.js';
import { connect, renderTrading } from './stream.js';
import { $ } from './util.js';
import type { KillSwitchAnswer, SystemOperationAnswer, TradingStateChange } from './types.js';

const reason = () => $<HTMLInputElement>('op-reason').value.trim();

// The button stays disabled while its call runs, so a double click sends once.
function operation(button: HTMLButtonElement, label: string, call: () => Promise<void>): void {
  button.disabled = true;
  void call()
    .catch((error: unknown) => showError(error, label))
    .then(() => {
      button.disabled = false;
    });
}

/** Wires the controls to the API. */
export function wireOperator(): void {
  $('operator').addEventListener('submit', (e) => e.preventDefault());
  const tokenInput = $<HTMLInputElement>('token');
  tokenInput.value = token();
  tokenInput.addEventListener('input', () => setToken(tokenInput.value));
  tokenInput.addEventListener('change', () => connect());
  $('btn-suspend').addEventListener('click', (e) => {
    operation(e.currentTarget as HTMLButtonElement, 'Suspend all', () =>
      api<SystemOperationAnswer>('POST', '/system/suspend', { reason: reason() }).then((d) => {
        notify('ok', `Suspended ${d.result.changed.length}`, `${d.result.skipped.length} skipped (not READY, ANALYZING or PENDING_ENTRY)`);
      }),
    );
  });
  $('btn-resume').addEventListener('click', (e) => {
    operation(e.currentTarget as HTMLButtonElement, 'Resume all', () =>
      api<SystemOperationAnswer>('POST', '/system/resume', {}).then((d) => {
        notify('ok', `Resumed ${d.result.changed.length}`, d.result.skipped.length ? `${d.result.skipped.length} could not resume` : '');
      }),
    );
  });
  $('btn-trading').addEventListener('click', (e) => {
    const state = $<HTMLSelectElement>('trading-select').value;
    operation(e.currentTarget as HTMLButtonElement, 'Set trading state', () =>
      api<{ change: TradingStateChange }>('POST', '/system/trading-state', { state, reason: reason() }).then((d) => {
        model.tradingState = d.change.to;
        renderTrading();
      }),
    );
  });
  const dialog = $<HTMLDialogElement>('kill-dialog');
  $('kill-cancel').addEventListener('click', () => dialog.close('cancel'));
  $('btn-kill').addEventListener('click', () => {
    $<HTMLInputElement>('kill-reason').value = reason();
    dialog.returnValue = '';
    dialog.showModal();
    $('kill-reason').focus();
  });
  dialog.addEventListener('close', () => {
    if (dialog.returnValue !== 'confirm') return;
    const why = $<HTMLInputElement>('kill-reason').value.trim();
    operation($<HTMLButtonElement>('btn-kill'), 'Kill switch', () =>
      api<KillSwitchAnswer>('POST', '/system/kill-switch', { reason: why }).then((d) => {
        model.tradingState = d.tradingState;
        renderTrading();
        notify('info', 'Kill switch engaged', 'trading HALTED; flattening every position, the outcome follows on the live stream');
      }),
    );
  });
}
