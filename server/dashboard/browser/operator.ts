/** The operator controls in the header: token, suspend and resume all, trading state, kill switch. */
import { api, notify, setToken, showError, token } from './api.js';
import { model } from './state.js';
import { connect, renderTrading } from './stream.js';
import { $ } from './util.js';
import type { KillSwitchAnswer, SystemOperationAnswer, TradingStateChange } from './types.js';

const reason = () => $<HTMLInputElement>('op-reason').value.trim();

/** The states Suspend all suspends from (the lifecycle's `suspendable` tag); it skips the others untried. */
const SUSPENDABLE = ['READY', 'ANALYZING', 'PENDING_ENTRY'];

/** The strategies a system-wide operation tried and could not move, each with why (at most 5 named). */
function failures(failed: SystemOperationAnswer['result']['skipped']): string {
  const named = failed.slice(0, 5).map((s) => `${s.strategyId} (${s.state}): ${s.reason}`);
  if (failed.length > 5) named.push(`and ${failed.length - 5} more`);
  return named.join('; ');
}

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
        // A strategy skipped from a state it may be suspended from was tried and refused or not
        // written: a failure the operator must see, not one more "not READY" (as it read before).
        const failed = d.result.skipped.filter((s) => SUSPENDABLE.includes(s.state));
        const left = d.result.skipped.length - failed.length;
        const skipped = left ? `${left} skipped (not ${SUSPENDABLE.slice(0, -1).join(', ')} or ${SUSPENDABLE.at(-1)})` : '';
        if (failed.length === 0) return notify('ok', `Suspended ${d.result.changed.length}`, skipped);
        notify(
          'error',
          `Suspended ${d.result.changed.length}, ${failed.length} failed`,
          [failures(failed), skipped].filter(Boolean).join('; '),
        );
      }),
    );
  });
  $('btn-resume').addEventListener('click', (e) => {
    operation(e.currentTarget as HTMLButtonElement, 'Resume all', () =>
      api<SystemOperationAnswer>('POST', '/system/resume', {}).then((d) => {
        // Only suspended strategies are tried: every one skipped was refused or not written.
        if (d.result.skipped.length === 0) return notify('ok', `Resumed ${d.result.changed.length}`);
        notify('error', `Resumed ${d.result.changed.length}, ${d.result.skipped.length} failed`, failures(d.result.skipped));
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
