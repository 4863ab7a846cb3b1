import { useState } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { commands, type BranchDevice, type CoreError, type DeviceKind, type DeviceOverview, type DeviceStatus, type Language } from "../../bindings";
import { useCommandForm } from "../../forms";
import { REVOKE_REASON_MAX, revokeSchema, type RevokeValues } from "./schema";
import { useCommandQuery } from "../../query";
import { deviceKeys } from "./keys";
import { useApp } from "../../context";
import { errorText } from "../../errors";
import { formatDateTime } from "../../format";
import { useLang } from "../../i18n/useLang";
import { EmptyRow, ErrorMessage, Field, Ltr, Notice, type NoticeText, SubmitButton, TableHead } from "../../components/common";

const kindKey = (kind: DeviceKind) => `devices.kinds.${kind}`;

const DEVICE_COLUMNS = [
  "devices.label",
  "devices.kind",
  "devices.deviceId",
  "devices.enrolledAt",
  "devices.lastSeen",
  "devices.lag",
  "devices.status",
  "common.actions",
] as const;

/**
 * The branch's workstations: what this workstation's records say (enrolment, revocations), with
 * the branch server's last-seen time and sync lag when it answers. Admins revoke a workstation
 * here: the server refuses its later records, its earlier ones stay.
 */
export function DevicesScreen() {
  const { t, lang } = useLang("devices");
  const { can, showError } = useApp();
  const queryClient = useQueryClient();
  const query = useCommandQuery(deviceKeys.overview, () => commands.deviceOverview());
  const overview = query.data ?? null;
  const loading = query.isFetching;
  const [notice, setNotice] = useState<NoticeText | null>(null);
  const [revoking, setRevoking] = useState<string | null>(null);

  // A revocation changes this list and the terminals offered on the Users screen.
  const refresh = () => void queryClient.invalidateQueries({ queryKey: deviceKeys.all });
  const mayRevoke = can("device_revoke");
  const devices = overview?.devices ?? [];

  return (
    <section className="page" data-testid="devices-screen">
      <div className="page-head">
        <h1>{t("devices.title")}</h1>
        <button
          type="button"
          className="btn btn-small"
          data-testid="devices-refresh"
          disabled={loading}
          onClick={() => {
            setNotice(null);
            refresh();
          }}
        >
          {loading ? t("common.working") : t("devices.refresh")}
        </button>
      </div>
      <p className="muted small">{t("devices.help")}</p>
      {overview && !overview.live ? <OfflineNotice overview={overview} /> : null}
      <Notice text={notice} testId="devices-message" />
      <div className="card table-card">
        <table className="table" data-testid="devices-table" data-live={overview ? String(overview.live) : undefined}>
          <TableHead columns={DEVICE_COLUMNS} />
          <tbody>
            {overview && devices.length === 0 ? (
              <EmptyRow columns={DEVICE_COLUMNS} text={t("devices.empty")} testId="devices-empty" />
            ) : null}
            {devices.map((d) => (
              <DeviceRow
                key={d.device_id}
                device={d}
                live={overview?.live ?? false}
                lang={lang}
                mayRevoke={mayRevoke}
                revokeOpen={revoking === d.device_id}
                onOpenRevoke={() => {
                  setNotice(null);
                  setRevoking(revoking === d.device_id ? null : d.device_id);
                }}
                onRevoked={() => {
                  setRevoking(null);
                  setNotice({ key: "devices.revokedOk", values: { label: d.label || { key: kindKey(d.kind) } } });
                  showError(null);
                  refresh();
                }}
              />
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function OfflineNotice({ overview }: { overview: DeviceOverview }) {
  const { t, lang } = useLang("devices");
  const error: CoreError | null = overview.live_error;
  return (
    <div
      className="message message-warning"
      role="status"
      data-testid="devices-offline"
      data-reason={error ? (error.details?.reason ?? error.code) : "not_enrolled_here"}
    >
      <div>{overview.enrolled ? t("devices.offline") : t("devices.notEnrolled")}</div>
      {error ? <div className="small">{errorText(t, error, lang)}</div> : null}
    </div>
  );
}

function DeviceRow({
  device: d,
  live,
  lang,
  mayRevoke,
  revokeOpen,
  onOpenRevoke,
  onRevoked,
}: {
  device: DeviceStatus;
  live: boolean;
  lang: Language;
  mayRevoke: boolean;
  revokeOpen: boolean;
  onOpenRevoke: () => void;
  onRevoked: () => void;
}) {
  const { t } = useLang("devices");
  const revoked = d.revoked !== null || d.server_revoked_at !== null;
  const unknown = t("devices.unavailable");
  // Only another workstation whose enrolment this one holds can be revoked from here.
  const canRevokeThis = mayRevoke && !revoked && !d.this_workstation && !d.server_only;
  return (
    <>
      <tr
        data-testid="device-row"
        data-device={d.device_id}
        data-kind={d.kind}
        data-status={revoked ? "revoked" : "active"}
        data-this={d.this_workstation ? "true" : "false"}
      >
        <td>
          <bdi data-testid="device-label">{d.label || t(kindKey(d.kind))}</bdi>
          {d.this_workstation ? (
            <>
              {" "}
              <span className="muted small" data-testid="device-this">
                {t("devices.thisWorkstation")}
              </span>
            </>
          ) : null}
          {d.server_only ? (
            <div className="muted small" data-testid="device-server-only">
              {t("devices.serverOnly")}
            </div>
          ) : null}
        </td>
        <td>{t(kindKey(d.kind))}</td>
        <td className="mono nowrap" title={d.device_id} data-testid="device-id">
          <Ltr>{d.device_id.slice(0, 8)}</Ltr>
        </td>
        <td className="nowrap">{d.enrolled_at ? formatDateTime(d.enrolled_at, lang) : t("common.none")}</td>
        <td className="nowrap" data-testid="device-last-seen">
          {!live ? unknown : d.last_seen_at ? formatDateTime(d.last_seen_at, lang) : t("devices.neverSeen")}
        </td>
        <td className="nowrap" data-testid="device-lag" data-lag={d.pull_lag ?? undefined}>
          {d.pull_lag === null ? unknown : d.pull_lag === 0 ? t("devices.upToDate") : t("devices.behind", { count: d.pull_lag })}
        </td>
        <td data-testid="device-status">
          <Status device={d} live={live} lang={lang} />
        </td>
        <td>
          {canRevokeThis ? (
            <button
              type="button"
              className="btn btn-small btn-danger"
              data-testid="device-revoke"
              aria-expanded={revokeOpen}
              onClick={onOpenRevoke}
            >
              {t("devices.revoke")}
            </button>
          ) : null}
        </td>
      </tr>
      {revokeOpen ? (
        <tr className="inline-form-row" data-testid="device-revoke-row" data-device={d.device_id}>
          <td colSpan={DEVICE_COLUMNS.length}>
            <RevokeForm device={d} onDone={onRevoked} onCancel={onOpenRevoke} />
          </td>
        </tr>
      ) : null}
    </>
  );
}

function Status({ device: d, live, lang }: { device: DeviceStatus; live: boolean; lang: Language }) {
  const { t } = useLang("devices");
  if (d.revoked) {
    const r = d.revoked;
    return (
      <>
        <span className="pill pill-off">{t("devices.revoked")}</span>
        <div className="small" data-testid="device-revoked-detail">
          {t("devices.revokedDetail", {
            date: formatDateTime(r.revoked_at, lang),
            name: r.by_name ?? r.by_user_id ?? t("common.none"),
          })}
        </div>
        <div className="small muted" data-testid="device-revoked-reason">
          <bdi>{r.reason}</bdi>
        </div>
        {live && d.server_revoked_at === null ? (
          <div className="small text-danger" data-testid="device-revoke-pending">
            {t("devices.revokePending")}
          </div>
        ) : null}
      </>
    );
  }
  if (d.server_revoked_at) {
    return (
      <>
        <span className="pill pill-off">{t("devices.revoked")}</span>
        <div className="small" data-testid="device-revoked-detail">
          {t("devices.revokedAtServer", { date: formatDateTime(d.server_revoked_at, lang) })}
        </div>
      </>
    );
  }
  return <span className="pill pill-ok">{t("devices.active")}</span>;
}

/** The confirm step: what revoking means, and the reason (required, kept in the record). */
function RevokeForm({ device, onDone, onCancel }: { device: DeviceStatus; onDone: () => void; onCancel: () => void }) {
  const { t } = useLang("devices");
  const { form, error, busy, message, onSubmit } = useCommandForm<RevokeValues, BranchDevice>({
    schema: revokeSchema,
    defaultValues: { reason: "" },
    send: (v) => commands.revokeDevice(device.device_id, v.reason),
    onDone: () => onDone(),
    fields: ["reason"],
  });

  const id = `revoke-${device.device_id}`;
  const label = device.label || t(kindKey(device.kind));
  return (
    <form className="inline-form" onSubmit={onSubmit} noValidate data-testid="device-revoke-form">
      <div className="message message-warning" role="alert" data-testid="device-revoke-warning">
        {t("devices.revokeWarning", { label })}
      </div>
      <Field id={id} label={t("devices.revokeReason")} wide error={message("reason")} errorTestId="device-revoke-error-reason">
        <textarea id={id} data-testid="device-revoke-reason" rows={2} maxLength={REVOKE_REASON_MAX} autoFocus {...form.register("reason")} />
      </Field>
      <ErrorMessage error={error} testId="device-revoke-error" />
      <div className="row-actions">
        <SubmitButton testId="device-revoke-confirm" busy={busy} label={t("devices.revokeConfirm", { label })} className="btn btn-danger btn-small" />
        <button type="button" className="btn btn-small" data-testid="device-revoke-cancel" disabled={busy} onClick={onCancel}>
          {t("common.cancel")}
        </button>
      </div>
    </form>
  );
}
