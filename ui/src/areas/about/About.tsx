import { commands } from "../../bindings";
import { useApp } from "../../context";
import { useCommandQuery } from "../../query";
import { useLang } from "../../i18n/useLang";
import { Ltr } from "../../components/common";

export function AboutScreen() {
  const { t } = useLang("about");
  const { branch } = useApp();
  const about = useCommandQuery(["about"], () => commands.about()).data ?? null;

  return (
    <section className="page">
      <div className="page-head">
        <h1>{t("about.title")}</h1>
      </div>
      {about && about.key_storage === "file" ? (
        <div className="message message-warning" role="alert" data-testid="about-key-fallback">
          {t("about.fallbackWarning", { reason: about.key_fallback_reason ?? t("common.none") })}
        </div>
      ) : null}
      <div className="card narrow">
        {about ? (
          <dl className="details details-single">
            {branch ? (
              <div className="detail">
                <dt>{t("about.branch")}</dt>
                <dd data-testid="about-branch">
                  <bdi>{branch.name}</bdi> (<Ltr>{branch.code}</Ltr>)
                </dd>
              </div>
            ) : null}
            <div className="detail">
              <dt>{t("about.appVersion")}</dt>
              <dd data-testid="about-version">
                <Ltr>{about.app_version}</Ltr>
              </dd>
            </div>
            <div className="detail">
              <dt>{t("about.deviceId")}</dt>
              <dd data-testid="about-device-id" className="mono">
                <Ltr>{about.device_id}</Ltr>
              </dd>
            </div>
            <div className="detail">
              <dt>{t("about.keyStorage")}</dt>
              <dd data-testid="about-key-storage" data-value={about.key_storage}>
                {t(`about.${about.key_storage}`)}
              </dd>
            </div>
            <div className="detail">
              <dt>{t("about.dataDir")}</dt>
              <dd data-testid="about-data-dir" className="mono">
                <Ltr>{about.data_dir}</Ltr>
              </dd>
            </div>
            <div className="detail">
              <dt>{t("about.recordCount")}</dt>
              <dd data-testid="about-record-count">{about.record_count}</dd>
            </div>
          </dl>
        ) : (
          <p className="muted">{t("app.loading")}</p>
        )}
      </div>
    </section>
  );
}
