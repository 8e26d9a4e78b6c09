from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from assistant.console import answer_views as answers
from assistant.console import canned_views as canned
from assistant.console import views as console
from assistant.evaluation import views as evaluation
from assistant.insights import analytics_views as analytics
from assistant.insights import audit_views as audit
from assistant.insights import gap_views as gaps
from assistant.knowledge_admin import views as knowledge
from assistant.knowledge_admin import website_views as websites
from assistant.people import views as people
from assistant.policies import views as policy
from assistant.project import home, ops
from assistant.tickets import views as tickets
from assistant.widget import settings_views as widget_settings
from assistant.widget import views as widget

workspace_patterns = [
    path("", people.workspace_switch, name="workspace_switch"),
    path("setup/", people.setup_page, name="setup"),
    path("people/", people.people_page, name="people"),
    path("people/invite/", people.invitation_create_request, name="invitation_create"),
    path(
        "people/invitations/<int:invitation_id>/resend/",
        people.invitation_resend_request,
        name="invitation_resend",
    ),
    path(
        "people/invitations/<int:invitation_id>/revoke/",
        people.invitation_revoke_request,
        name="invitation_revoke",
    ),
    path(
        "people/members/<int:membership_id>/role/", people.member_role_request, name="member_role"
    ),
    path(
        "people/members/<int:membership_id>/remove/",
        people.member_remove_request,
        name="member_remove",
    ),
    path("knowledge/", knowledge.knowledge_bases, name="knowledge_bases"),
    path(
        "knowledge/<slug:knowledge_base_slug>/",
        knowledge.knowledge_base_detail,
        name="knowledge_base",
    ),
    path(
        "knowledge/<slug:knowledge_base_slug>/rename/",
        knowledge.knowledge_base_rename,
        name="knowledge_base_rename",
    ),
    path(
        "knowledge/<slug:knowledge_base_slug>/delete/",
        knowledge.knowledge_base_delete,
        name="knowledge_base_delete",
    ),
    path(
        "knowledge/<slug:knowledge_base_slug>/ask/",
        knowledge.knowledge_question,
        name="knowledge_question",
    ),
    path(
        "knowledge/<slug:knowledge_base_slug>/documents/",
        knowledge.document_table,
        name="document_table",
    ),
    path("knowledge/<slug:knowledge_base_slug>/upload/", knowledge.upload, name="document_upload"),
    path(
        "knowledge/<slug:knowledge_base_slug>/documents/<int:document_id>/",
        knowledge.document_detail,
        name="document",
    ),
    path(
        "knowledge/<slug:knowledge_base_slug>/documents/<int:document_id>/dates/",
        knowledge.document_dates,
        name="document_dates",
    ),
    path(
        "knowledge/<slug:knowledge_base_slug>/conflicts/",
        knowledge.conflicts,
        name="knowledge_conflicts",
    ),
    path(
        "knowledge/<slug:knowledge_base_slug>/documents/<int:document_id>/delete/",
        knowledge.document_remove,
        name="document_delete",
    ),
    path(
        "knowledge/<slug:knowledge_base_slug>/documents/<int:document_id>/reindex/",
        knowledge.document_reindex_request,
        name="document_reindex",
    ),
    path(
        "knowledge/<slug:knowledge_base_slug>/documents/<int:document_id>/archive/",
        knowledge.document_archive_request,
        name="document_archive",
    ),
    path(
        "knowledge/<slug:knowledge_base_slug>/websites/",
        websites.website_sources,
        name="website_sources",
    ),
    path(
        "knowledge/<slug:knowledge_base_slug>/websites/add/",
        websites.website_add,
        name="website_add",
    ),
    path(
        "knowledge/<slug:knowledge_base_slug>/websites/<int:source_id>/sync/",
        websites.website_sync,
        name="website_sync",
    ),
    path(
        "knowledge/<slug:knowledge_base_slug>/websites/<int:source_id>/delete/",
        websites.website_remove,
        name="website_remove",
    ),
    path(
        "knowledge/<slug:knowledge_base_slug>/quarantine/<int:chunk_id>/release/",
        knowledge.chunk_release_request,
        name="chunk_release",
    ),
    path("widget/", widget_settings.widget_settings, name="widget_settings"),
    path("audit/", audit.audit_log, name="audit_log"),
    path("analytics/", analytics.analytics_page, name="analytics"),
    path(
        "analytics/conversations.csv",
        analytics.conversations_csv,
        name="analytics_conversations_csv",
    ),
    path("answers/<int:message_id>/", answers.answer_page, name="answer"),
    path("answers/<int:message_id>/trace.json", answers.answer_trace, name="answer_trace"),
    path("policy/", policy.policy_page, name="policy"),
    path("policy/draft/", policy.draft_save, name="policy_draft"),
    path("policy/draft/summary/", policy.draft_summary, name="policy_draft_summary"),
    path("policy/sandbox/", policy.sandbox_ask, name="policy_sandbox"),
    path("policy/sandbox/clear/", policy.sandbox_clear, name="policy_sandbox_clear"),
    path("policy/check/", policy.check_start, name="policy_check"),
    path("policy/check/status/", policy.check_status, name="policy_check_status"),
    path("policy/publish/", policy.publish, name="policy_publish"),
    path("policy/versions/<int:number>/restore/", policy.restore, name="policy_restore"),
    path("gaps/", gaps.gaps_page, name="gaps"),
    path("gaps/article/", gaps.article_page, name="gap_article"),
    path("gaps/article/publish/", gaps.article_publish_request, name="gap_article_publish"),
    path("evaluation/", evaluation.evaluation_page, name="evaluation"),
    path("evaluation/start/", evaluation.run_start, name="evaluation_start"),
    path("evaluation/runs/", evaluation.runs_table, name="evaluation_runs"),
    path("evaluation/runs/<int:run_id>/", evaluation.run_page, name="evaluation_run"),
    path(
        "evaluation/runs/<int:run_id>/progress/",
        evaluation.run_progress,
        name="evaluation_progress",
    ),
    path("evaluation/runs/<int:run_id>/report.json", evaluation.run_json, name="evaluation_json"),
    path("evaluation/cases/", evaluation.cases_page, name="eval_cases"),
    path("evaluation/cases/add/", evaluation.case_add, name="eval_case_add"),
    path("evaluation/cases/import/", evaluation.cases_import_request, name="eval_cases_import"),
    path(
        "evaluation/cases/export.jsonl",
        evaluation.cases_export_request,
        name="eval_cases_export",
    ),
    path("evaluation/cases/<int:case_id>/", evaluation.case_row, name="eval_case"),
    path("evaluation/cases/<int:case_id>/edit/", evaluation.case_edit, name="eval_case_edit"),
    path("evaluation/cases/<int:case_id>/delete/", evaluation.case_delete, name="eval_case_delete"),
    path(
        "widget/identity-secret/",
        widget_settings.identity_secret_new,
        name="widget_identity_secret",
    ),
]

console_patterns = [
    path("", console.console, name="console"),
    path("notifications/", tickets.notification_settings, name="console_notifications"),
    path("conversations/<int:conversation_id>/", console.conversation, name="console_conversation"),
    path(
        "conversations/<int:conversation_id>/claim/",
        console.conversation_claim,
        name="console_claim",
    ),
    path(
        "conversations/<int:conversation_id>/reply/",
        console.conversation_reply,
        name="console_reply",
    ),
    path(
        "conversations/<int:conversation_id>/hand-back/",
        console.conversation_hand_back,
        name="console_hand_back",
    ),
    path(
        "conversations/<int:conversation_id>/resolve/",
        console.conversation_resolve,
        name="console_resolve",
    ),
    path(
        "conversations/<int:conversation_id>/notes/",
        console.conversation_note,
        name="console_note",
    ),
    path(
        "conversations/<int:conversation_id>/messages/<int:message_id>/save-as-case/",
        console.turn_save_as_case,
        name="console_save_case",
    ),
    path(
        "conversations/<int:conversation_id>/vault/",
        console.conversation_vault_read,
        name="console_vault",
    ),
    path("canned-replies/", canned.canned_reply_list, name="canned_replies"),
    path("canned-replies.json", canned.canned_replies_json, name="canned_replies_json"),
    path(
        "canned-replies/<int:canned_reply_id>/edit/",
        canned.canned_reply_edit,
        name="canned_reply_edit",
    ),
    path(
        "canned-replies/<int:canned_reply_id>/delete/",
        canned.canned_reply_remove,
        name="canned_reply_delete",
    ),
]

urlpatterns = [
    path("", widget.demo_site, name="demo_site"),
    path("app/", home.home, name="home"),
    path("favicon.ico", home.favicon, name="favicon"),
    path("health/", ops.health, name="health"),
    path("metrics", ops.metrics, name="metrics"),
    path("console/", console.console_home, name="console_home"),
    path("console/<slug:workspace_slug>/", include(console_patterns)),
    path("widget/<str:public_key>/", widget.chat_panel, name="chat_panel"),
    # The URL the avatar's ImageField gives it: MEDIA_URL ("media/"), upload_to, name.
    path(f"media/{widget.AVATARS}/<path:name>", widget.avatar, name="widget_avatar"),
    path(
        "widget/<str:public_key>/sources/<uuid:citation_id>/",
        widget.cited_source,
        name="cited_source",
    ),
    path("tickets/inbound/", tickets.inbound_mail, name="ticket_inbound"),
    path("tickets/<str:transcript_token>/", tickets.ticket_transcript, name="ticket_transcript"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "password-reset/",
        # The link in the e-mail is on Keel's public address, never the request's Host.
        auth_views.PasswordResetView.as_view(
            extra_email_context={"keel_url": settings.KEEL_PUBLIC_URL}
        ),
        name="password_reset",
    ),
    path(
        "password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "password-reset/<uidb64>/<token>/",
        people.PasswordResetConfirm.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password-reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("start/", people.start_page, name="start"),
    path(
        "invitations/<str:invitation_token>/",
        people.invitation_accept_page,
        name="invitation_accept",
    ),
    path("w/<slug:workspace_slug>/", include(workspace_patterns)),
    path("admin/", admin.site.urls),
]
