"""How every form renders: each field through templates/components/field.html, so a staff
page's `{{ form.as_div }}` gets the design system's label, help and error layout."""

from django.forms.renderers import TemplatesSetting


class StaffFormRenderer(TemplatesSetting):
    field_template_name = "components/field.html"
