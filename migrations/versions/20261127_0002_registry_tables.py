"""Registry tables: administrative units, villages and their figures, co-operatives, programmes, fairs

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 08:30:02.417996+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('admin_unit',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('code', sa.Text(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('level', sa.Text(), nullable=False),
    sa.Column('parent_id', sa.BigInteger(), nullable=True),
    sa.Column('valid_from', sa.Date(), nullable=True),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('version', sa.Integer(), server_default=sa.text('1'), nullable=False),
    sa.Column('search_text', sa.Text(), sa.Computed("lower(f_unaccent(name || ' ' || code))", persisted=True), nullable=False),
    sa.Column('name_sort', sa.Text(collation='C'), sa.Computed('vi_sort_key(name)', persisted=True), nullable=False),
    sa.CheckConstraint("btrim(code) <> ''", name=op.f('ck_admin_unit_code_not_blank')),
    sa.CheckConstraint("btrim(name) <> ''", name=op.f('ck_admin_unit_name_not_blank')),
    sa.CheckConstraint("level IN ('province', 'district', 'commune')", name=op.f('ck_admin_unit_level_valid')),
    sa.CheckConstraint('parent_id IS NULL OR parent_id <> id', name=op.f('ck_admin_unit_not_own_parent')),
    sa.CheckConstraint('valid_to IS NULL OR valid_from IS NULL OR valid_to >= valid_from', name=op.f('ck_admin_unit_valid_period')),
    sa.ForeignKeyConstraint(['parent_id'], ['admin_unit.id'], name=op.f('fk_admin_unit_parent_id_admin_unit'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_admin_unit')),
    sa.UniqueConstraint('code', 'valid_from', name=op.f('uq_admin_unit_code_valid_from'), postgresql_nulls_not_distinct=True)
    )
    op.create_index('ix_admin_unit_level', 'admin_unit', ['level'], unique=False)
    op.create_index('ix_admin_unit_name_sort', 'admin_unit', ['name_sort'], unique=False)
    op.create_index(op.f('ix_admin_unit_parent_id'), 'admin_unit', ['parent_id'], unique=False)
    op.create_index('ix_admin_unit_search_text', 'admin_unit', ['search_text'], unique=False, postgresql_using='gin', postgresql_ops={'search_text': 'gin_trgm_ops'})
    op.create_table('programme',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('kind', sa.Text(), nullable=False),
    sa.Column('activity', sa.Text(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('implementer', sa.Text(), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('status', sa.Text(), server_default=sa.text("'planned'"), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('version', sa.Integer(), server_default=sa.text('1'), nullable=False),
    sa.Column('search_text', sa.Text(), sa.Computed("lower(f_unaccent(name || ' ' || coalesce(implementer, '')))", persisted=True), nullable=False),
    sa.Column('name_sort', sa.Text(collation='C'), sa.Computed('vi_sort_key(name)', persisted=True), nullable=False),
    sa.CheckConstraint("(kind = 'industrial_extension' AND activity IN ('consulting', 'demonstration_model', 'digital_and_sustainable', 'extension_capacity', 'information', 'international_cooperation', 'linkage_and_environment', 'management_and_startup', 'new_products_and_branding', 'vocational_training')) OR (kind = 'trade_promotion' AND activity IN ('fair_hosting', 'fair_participation', 'market_information', 'other', 'trade_conference'))", name=op.f('ck_programme_activity_matches_kind')),
    sa.CheckConstraint("btrim(name) <> ''", name=op.f('ck_programme_name_not_blank')),
    sa.CheckConstraint("kind IN ('industrial_extension', 'trade_promotion')", name=op.f('ck_programme_kind_valid')),
    sa.CheckConstraint("status IN ('planned', 'approved', 'in_progress', 'completed', 'cancelled')", name=op.f('ck_programme_status_valid')),
    sa.CheckConstraint('year BETWEEN 1900 AND 2100', name=op.f('ck_programme_year_range')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_programme'))
    )
    op.create_index('ix_programme_activity', 'programme', ['activity'], unique=False)
    op.create_index('ix_programme_kind', 'programme', ['kind'], unique=False)
    op.create_index('ix_programme_name_sort', 'programme', ['name_sort'], unique=False)
    op.create_index('ix_programme_search_text', 'programme', ['search_text'], unique=False, postgresql_using='gin', postgresql_ops={'search_text': 'gin_trgm_ops'})
    op.create_index('ix_programme_status', 'programme', ['status'], unique=False)
    op.create_index('ix_programme_year', 'programme', ['year'], unique=False)
    op.create_table('programme_funding',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('programme_id', sa.BigInteger(), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('amount_vnd', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('version', sa.Integer(), server_default=sa.text('1'), nullable=False),
    sa.CheckConstraint("source IN ('central', 'provincial', 'district', 'commune', 'counterpart', 'other')", name=op.f('ck_programme_funding_source_valid')),
    sa.CheckConstraint('amount_vnd >= 0', name=op.f('ck_programme_funding_amount_vnd_not_negative')),
    sa.ForeignKeyConstraint(['programme_id'], ['programme.id'], name=op.f('fk_programme_funding_programme_id_programme'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_programme_funding'))
    )
    op.create_index('ix_programme_funding_programme_id', 'programme_funding', ['programme_id'], unique=False)
    op.create_index('ix_programme_funding_source', 'programme_funding', ['source'], unique=False)
    op.create_table('trade_fair',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('kind', sa.Text(), nullable=False),
    sa.Column('organiser', sa.Text(), nullable=True),
    sa.Column('venue', sa.Text(), nullable=True),
    sa.Column('city', sa.Text(), nullable=True),
    sa.Column('province', sa.Text(), nullable=True),
    sa.Column('country', sa.Text(), server_default=sa.text("'VN'"), nullable=False),
    sa.Column('start_on', sa.Date(), nullable=False),
    sa.Column('end_on', sa.Date(), nullable=False),
    sa.Column('standard_booths', sa.Integer(), nullable=True),
    sa.Column('exhibitors', sa.Integer(), nullable=True),
    sa.Column('visitors', sa.Integer(), nullable=True),
    sa.Column('contracts_signed', sa.Integer(), nullable=True),
    sa.Column('contract_value_vnd', sa.BigInteger(), nullable=True),
    sa.Column('sales_vnd', sa.BigInteger(), nullable=True),
    sa.Column('cost_vnd', sa.BigInteger(), nullable=True),
    sa.Column('programme_id', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('version', sa.Integer(), server_default=sa.text('1'), nullable=False),
    sa.Column('search_text', sa.Text(), sa.Computed("lower(f_unaccent(name || ' ' || coalesce(organiser, '') || ' ' || coalesce(venue, '') || ' ' || coalesce(city, '') || ' ' || coalesce(province, '')))", persisted=True), nullable=False),
    sa.Column('name_sort', sa.Text(collation='C'), sa.Computed('vi_sort_key(name)', persisted=True), nullable=False),
    sa.CheckConstraint("(kind = 'overseas') = (country <> 'VN') OR kind = 'trade_conference'", name=op.f('ck_trade_fair_country_matches_kind')),
    sa.CheckConstraint("btrim(name) <> ''", name=op.f('ck_trade_fair_name_not_blank')),
    sa.CheckConstraint("country ~ '^[A-Z]{2}$'", name=op.f('ck_trade_fair_country_iso_alpha2')),
    sa.CheckConstraint("kind IN ('hosted', 'attended', 'overseas', 'trade_conference')", name=op.f('ck_trade_fair_kind_valid')),
    sa.CheckConstraint("start_on BETWEEN DATE '1900-01-01' AND DATE '2100-12-31'", name=op.f('ck_trade_fair_start_on_range')),
    sa.CheckConstraint('contract_value_vnd >= 0', name=op.f('ck_trade_fair_contract_value_vnd_not_negative')),
    sa.CheckConstraint('contracts_signed >= 0', name=op.f('ck_trade_fair_contracts_signed_not_negative')),
    sa.CheckConstraint('cost_vnd >= 0', name=op.f('ck_trade_fair_cost_vnd_not_negative')),
    sa.CheckConstraint('end_on >= start_on', name=op.f('ck_trade_fair_end_after_start')),
    sa.CheckConstraint('exhibitors >= 0', name=op.f('ck_trade_fair_exhibitors_not_negative')),
    sa.CheckConstraint('sales_vnd >= 0', name=op.f('ck_trade_fair_sales_vnd_not_negative')),
    sa.CheckConstraint('standard_booths >= 0', name=op.f('ck_trade_fair_standard_booths_not_negative')),
    sa.CheckConstraint('visitors >= 0', name=op.f('ck_trade_fair_visitors_not_negative')),
    sa.ForeignKeyConstraint(['programme_id'], ['programme.id'], name=op.f('fk_trade_fair_programme_id_programme'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_trade_fair'))
    )
    op.create_index('ix_trade_fair_country', 'trade_fair', ['country'], unique=False)
    op.create_index('ix_trade_fair_kind', 'trade_fair', ['kind'], unique=False)
    op.create_index('ix_trade_fair_name_sort', 'trade_fair', ['name_sort'], unique=False)
    op.create_index('ix_trade_fair_programme_id', 'trade_fair', ['programme_id'], unique=False)
    op.create_index('ix_trade_fair_province', 'trade_fair', ['province'], unique=False)
    op.create_index('ix_trade_fair_search_text', 'trade_fair', ['search_text'], unique=False, postgresql_using='gin', postgresql_ops={'search_text': 'gin_trgm_ops'})
    op.create_index('ix_trade_fair_start_on', 'trade_fair', ['start_on'], unique=False)
    op.create_table('village',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('commune', sa.Text(), nullable=True),
    sa.Column('district_id', sa.BigInteger(), nullable=False),
    sa.Column('craft_group', sa.Text(), nullable=False),
    sa.Column('crafts', postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'::text[]"), nullable=False),
    sa.Column('status', sa.Text(), server_default=sa.text("'unrecognised'"), nullable=False),
    sa.Column('recognition_decision', sa.Text(), nullable=True),
    sa.Column('recognised_on', sa.Date(), nullable=True),
    sa.Column('revoked_on', sa.Date(), nullable=True),
    sa.Column('established_year', sa.Integer(), nullable=True),
    sa.Column('households_total', sa.Integer(), nullable=True),
    sa.Column('households_participating', sa.Integer(), nullable=True),
    sa.Column('has_environment_plan', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('on_polluted_list', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('latitude', sa.Double(), nullable=True),
    sa.Column('longitude', sa.Double(), nullable=True),
    sa.Column('is_illustrative', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('version', sa.Integer(), server_default=sa.text('1'), nullable=False),
    sa.Column('search_text', sa.Text(), sa.Computed("lower(f_unaccent(name || ' ' || coalesce(commune, '') || ' ' || f_words(crafts)))", persisted=True), nullable=False),
    sa.Column('name_sort', sa.Text(collation='C'), sa.Computed('vi_sort_key(name)', persisted=True), nullable=False),
    sa.CheckConstraint("btrim(name) <> ''", name=op.f('ck_village_name_not_blank')),
    sa.CheckConstraint("craft_group IN ('agro_processing', 'handicraft', 'material_processing', 'manufacturing', 'ornamental', 'salt', 'rural_services')", name=op.f('ck_village_craft_group_valid')),
    sa.CheckConstraint("status = 'unrecognised' OR recognised_on IS NOT NULL", name=op.f('ck_village_recognised_has_date')),
    sa.CheckConstraint("status IN ('unrecognised', 'craft_village', 'traditional_craft_village')", name=op.f('ck_village_status_valid')),
    sa.CheckConstraint('(latitude IS NULL) = (longitude IS NULL)', name=op.f('ck_village_coordinates_paired')),
    sa.CheckConstraint('established_year BETWEEN 1000 AND 2100', name=op.f('ck_village_established_year_range')),
    sa.CheckConstraint('households_participating <= households_total', name=op.f('ck_village_participating_le_total')),
    sa.CheckConstraint('households_participating >= 0', name=op.f('ck_village_households_participating_not_negative')),
    sa.CheckConstraint('households_total >= 0', name=op.f('ck_village_households_total_not_negative')),
    sa.CheckConstraint('latitude BETWEEN -90 AND 90', name=op.f('ck_village_latitude_range')),
    sa.CheckConstraint('longitude BETWEEN -180 AND 180', name=op.f('ck_village_longitude_range')),
    sa.CheckConstraint('revoked_on >= recognised_on', name=op.f('ck_village_revoked_after_recognised')),
    sa.ForeignKeyConstraint(['district_id'], ['admin_unit.id'], name=op.f('fk_village_district_id_admin_unit'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_village'))
    )
    op.create_index('ix_village_craft_group', 'village', ['craft_group'], unique=False)
    op.create_index('ix_village_crafts', 'village', ['crafts'], unique=False, postgresql_using='gin')
    op.create_index('ix_village_district_id', 'village', ['district_id'], unique=False)
    op.create_index('ix_village_established_year', 'village', ['established_year'], unique=False)
    op.create_index('ix_village_households_total', 'village', ['households_total'], unique=False)
    op.create_index('ix_village_name_sort', 'village', ['name_sort'], unique=False)
    op.create_index('ix_village_recognised_on', 'village', ['recognised_on'], unique=False)
    op.create_index('ix_village_search_text', 'village', ['search_text'], unique=False, postgresql_using='gin', postgresql_ops={'search_text': 'gin_trgm_ops'})
    op.create_index('ix_village_status', 'village', ['status'], unique=False)
    op.create_table('cooperative',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('registration_code', sa.Text(), nullable=True),
    sa.Column('legal_form', sa.Text(), server_default=sa.text("'cooperative'"), nullable=False),
    sa.Column('sector', sa.Text(), nullable=False),
    sa.Column('district_id', sa.BigInteger(), nullable=False),
    sa.Column('village_id', sa.BigInteger(), nullable=True),
    sa.Column('members', sa.Integer(), nullable=True),
    sa.Column('charter_capital_vnd', sa.BigInteger(), nullable=True),
    sa.Column('founded_on', sa.Date(), nullable=True),
    sa.Column('dissolved_on', sa.Date(), nullable=True),
    sa.Column('status', sa.Text(), server_default=sa.text("'active'"), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('version', sa.Integer(), server_default=sa.text('1'), nullable=False),
    sa.Column('search_text', sa.Text(), sa.Computed("lower(f_unaccent(name || ' ' || coalesce(registration_code, '')))", persisted=True), nullable=False),
    sa.Column('name_sort', sa.Text(collation='C'), sa.Computed('vi_sort_key(name)', persisted=True), nullable=False),
    sa.CheckConstraint("btrim(name) <> ''", name=op.f('ck_cooperative_name_not_blank')),
    sa.CheckConstraint("btrim(registration_code) <> ''", name=op.f('ck_cooperative_registration_code_not_blank')),
    sa.CheckConstraint("legal_form IN ('cooperative', 'cooperative_union', 'cooperative_group')", name=op.f('ck_cooperative_legal_form_valid')),
    sa.CheckConstraint("sector IN ('textile_garment', 'mechanical', 'wood_processing', 'chemicals', 'clean_water', 'sedge', 'agro_processing', 'handicraft', 'other')", name=op.f('ck_cooperative_sector_valid')),
    sa.CheckConstraint("status IN ('active', 'suspended', 'dissolved')", name=op.f('ck_cooperative_status_valid')),
    sa.CheckConstraint('charter_capital_vnd >= 0', name=op.f('ck_cooperative_charter_capital_vnd_not_negative')),
    sa.CheckConstraint('dissolved_on >= founded_on', name=op.f('ck_cooperative_dissolved_after_founded')),
    sa.CheckConstraint('members >= 0', name=op.f('ck_cooperative_members_not_negative')),
    sa.ForeignKeyConstraint(['district_id'], ['admin_unit.id'], name=op.f('fk_cooperative_district_id_admin_unit'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['village_id'], ['village.id'], name=op.f('fk_cooperative_village_id_village'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cooperative')),
    sa.UniqueConstraint('registration_code', name=op.f('uq_cooperative_registration_code'))
    )
    op.create_index('ix_cooperative_district_id', 'cooperative', ['district_id'], unique=False)
    op.create_index('ix_cooperative_founded_on', 'cooperative', ['founded_on'], unique=False)
    op.create_index('ix_cooperative_legal_form', 'cooperative', ['legal_form'], unique=False)
    op.create_index('ix_cooperative_members', 'cooperative', ['members'], unique=False)
    op.create_index('ix_cooperative_name_sort', 'cooperative', ['name_sort'], unique=False)
    op.create_index('ix_cooperative_search_text', 'cooperative', ['search_text'], unique=False, postgresql_using='gin', postgresql_ops={'search_text': 'gin_trgm_ops'})
    op.create_index('ix_cooperative_sector', 'cooperative', ['sector'], unique=False)
    op.create_index('ix_cooperative_status', 'cooperative', ['status'], unique=False)
    op.create_index('ix_cooperative_village_id', 'cooperative', ['village_id'], unique=False)
    op.create_table('village_figure',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('village_id', sa.BigInteger(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('households', sa.Integer(), nullable=True),
    sa.Column('workers', sa.Integer(), nullable=True),
    sa.Column('production_value_vnd', sa.BigInteger(), nullable=True),
    sa.Column('average_income_vnd', sa.BigInteger(), nullable=True),
    sa.Column('qualifier', sa.Text(), server_default=sa.text("'exact'"), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('version', sa.Integer(), server_default=sa.text('1'), nullable=False),
    sa.CheckConstraint("qualifier IN ('exact', 'approximate', 'at_least')", name=op.f('ck_village_figure_qualifier_valid')),
    sa.CheckConstraint('average_income_vnd >= 0', name=op.f('ck_village_figure_average_income_vnd_not_negative')),
    sa.CheckConstraint('households >= 0', name=op.f('ck_village_figure_households_not_negative')),
    sa.CheckConstraint('production_value_vnd >= 0', name=op.f('ck_village_figure_production_value_vnd_not_negative')),
    sa.CheckConstraint('workers >= 0', name=op.f('ck_village_figure_workers_not_negative')),
    sa.CheckConstraint('year BETWEEN 1900 AND 2100', name=op.f('ck_village_figure_year_range')),
    sa.ForeignKeyConstraint(['village_id'], ['village.id'], name=op.f('fk_village_figure_village_id_village'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_village_figure')),
    sa.UniqueConstraint('village_id', 'year', name=op.f('uq_village_figure_village_id_year'))
    )
    op.create_index('ix_village_figure_production_value_vnd', 'village_figure', ['production_value_vnd'], unique=False)
    op.create_index('ix_village_figure_workers', 'village_figure', ['workers'], unique=False)
    op.create_index('ix_village_figure_year', 'village_figure', ['year'], unique=False)
    op.create_table('programme_beneficiary',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('programme_id', sa.BigInteger(), nullable=False),
    sa.Column('village_id', sa.BigInteger(), nullable=True),
    sa.Column('cooperative_id', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('version', sa.Integer(), server_default=sa.text('1'), nullable=False),
    sa.CheckConstraint('num_nonnulls(village_id, cooperative_id) = 1', name=op.f('ck_programme_beneficiary_one_beneficiary')),
    sa.ForeignKeyConstraint(['cooperative_id'], ['cooperative.id'], name=op.f('fk_programme_beneficiary_cooperative_id_cooperative'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['programme_id'], ['programme.id'], name=op.f('fk_programme_beneficiary_programme_id_programme'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['village_id'], ['village.id'], name=op.f('fk_programme_beneficiary_village_id_village'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_programme_beneficiary')),
    sa.UniqueConstraint('programme_id', 'cooperative_id', name=op.f('uq_programme_beneficiary_programme_id_cooperative_id')),
    sa.UniqueConstraint('programme_id', 'village_id', name=op.f('uq_programme_beneficiary_programme_id_village_id'))
    )
    op.create_index('ix_programme_beneficiary_cooperative_id', 'programme_beneficiary', ['cooperative_id'], unique=False)
    op.create_index('ix_programme_beneficiary_village_id', 'programme_beneficiary', ['village_id'], unique=False)
    op.create_table('trade_fair_participant',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('trade_fair_id', sa.BigInteger(), nullable=False),
    sa.Column('village_id', sa.BigInteger(), nullable=True),
    sa.Column('cooperative_id', sa.BigInteger(), nullable=True),
    sa.Column('booths', sa.Integer(), server_default=sa.text('1'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('version', sa.Integer(), server_default=sa.text('1'), nullable=False),
    sa.CheckConstraint('booths >= 0', name=op.f('ck_trade_fair_participant_booths_not_negative')),
    sa.CheckConstraint('num_nonnulls(village_id, cooperative_id) = 1', name=op.f('ck_trade_fair_participant_one_participant')),
    sa.ForeignKeyConstraint(['cooperative_id'], ['cooperative.id'], name=op.f('fk_trade_fair_participant_cooperative_id_cooperative'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['trade_fair_id'], ['trade_fair.id'], name=op.f('fk_trade_fair_participant_trade_fair_id_trade_fair'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['village_id'], ['village.id'], name=op.f('fk_trade_fair_participant_village_id_village'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_trade_fair_participant')),
    sa.UniqueConstraint('trade_fair_id', 'cooperative_id', name=op.f('uq_trade_fair_participant_trade_fair_id_cooperative_id')),
    sa.UniqueConstraint('trade_fair_id', 'village_id', name=op.f('uq_trade_fair_participant_trade_fair_id_village_id'))
    )
    op.create_index('ix_trade_fair_participant_cooperative_id', 'trade_fair_participant', ['cooperative_id'], unique=False)
    op.create_index('ix_trade_fair_participant_village_id', 'trade_fair_participant', ['village_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_trade_fair_participant_village_id', table_name='trade_fair_participant')
    op.drop_index('ix_trade_fair_participant_cooperative_id', table_name='trade_fair_participant')
    op.drop_table('trade_fair_participant')
    op.drop_index('ix_programme_beneficiary_village_id', table_name='programme_beneficiary')
    op.drop_index('ix_programme_beneficiary_cooperative_id', table_name='programme_beneficiary')
    op.drop_table('programme_beneficiary')
    op.drop_index('ix_village_figure_year', table_name='village_figure')
    op.drop_index('ix_village_figure_workers', table_name='village_figure')
    op.drop_index('ix_village_figure_production_value_vnd', table_name='village_figure')
    op.drop_table('village_figure')
    op.drop_index('ix_cooperative_village_id', table_name='cooperative')
    op.drop_index('ix_cooperative_status', table_name='cooperative')
    op.drop_index('ix_cooperative_sector', table_name='cooperative')
    op.drop_index('ix_cooperative_search_text', table_name='cooperative', postgresql_using='gin', postgresql_ops={'search_text': 'gin_trgm_ops'})
    op.drop_index('ix_cooperative_name_sort', table_name='cooperative')
    op.drop_index('ix_cooperative_members', table_name='cooperative')
    op.drop_index('ix_cooperative_legal_form', table_name='cooperative')
    op.drop_index('ix_cooperative_founded_on', table_name='cooperative')
    op.drop_index('ix_cooperative_district_id', table_name='cooperative')
    op.drop_table('cooperative')
    op.drop_index('ix_village_status', table_name='village')
    op.drop_index('ix_village_search_text', table_name='village', postgresql_using='gin', postgresql_ops={'search_text': 'gin_trgm_ops'})
    op.drop_index('ix_village_recognised_on', table_name='village')
    op.drop_index('ix_village_name_sort', table_name='village')
    op.drop_index('ix_village_households_total', table_name='village')
    op.drop_index('ix_village_established_year', table_name='village')
    op.drop_index('ix_village_district_id', table_name='village')
    op.drop_index('ix_village_crafts', table_name='village', postgresql_using='gin')
    op.drop_index('ix_village_craft_group', table_name='village')
    op.drop_table('village')
    op.drop_index('ix_trade_fair_start_on', table_name='trade_fair')
    op.drop_index('ix_trade_fair_search_text', table_name='trade_fair', postgresql_using='gin', postgresql_ops={'search_text': 'gin_trgm_ops'})
    op.drop_index('ix_trade_fair_province', table_name='trade_fair')
    op.drop_index('ix_trade_fair_programme_id', table_name='trade_fair')
    op.drop_index('ix_trade_fair_name_sort', table_name='trade_fair')
    op.drop_index('ix_trade_fair_kind', table_name='trade_fair')
    op.drop_index('ix_trade_fair_country', table_name='trade_fair')
    op.drop_table('trade_fair')
    op.drop_index('ix_programme_funding_source', table_name='programme_funding')
    op.drop_index('ix_programme_funding_programme_id', table_name='programme_funding')
    op.drop_table('programme_funding')
    op.drop_index('ix_programme_year', table_name='programme')
    op.drop_index('ix_programme_status', table_name='programme')
    op.drop_index('ix_programme_search_text', table_name='programme', postgresql_using='gin', postgresql_ops={'search_text': 'gin_trgm_ops'})
    op.drop_index('ix_programme_name_sort', table_name='programme')
    op.drop_index('ix_programme_kind', table_name='programme')
    op.drop_index('ix_programme_activity', table_name='programme')
    op.drop_table('programme')
    op.drop_index('ix_admin_unit_search_text', table_name='admin_unit', postgresql_using='gin', postgresql_ops={'search_text': 'gin_trgm_ops'})
    op.drop_index(op.f('ix_admin_unit_parent_id'), table_name='admin_unit')
    op.drop_index('ix_admin_unit_name_sort', table_name='admin_unit')
    op.drop_index('ix_admin_unit_level', table_name='admin_unit')
    op.drop_table('admin_unit')
