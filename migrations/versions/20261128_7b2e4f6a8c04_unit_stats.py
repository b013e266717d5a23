"""unit statistics counters

Revision ID: 7b2e4f6a8c04
Revises: 3a7f9d2c1b03
Create Date: 2026-11-28 04:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import api.core.db

revision: str = '7b2e4f6a8c04'
down_revision: str | None = '3a7f9d2c1b03'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('unit_stats',
    sa.Column('unit_id', sa.Uuid(), nullable=False),
    sa.Column('members_active', sa.Integer(), nullable=False),
    sa.Column('leaders_active', sa.Integer(), nullable=False),
    sa.Column('members_declared', sa.Integer(), nullable=False),
    sa.Column('members_with_accounts', sa.Integer(), nullable=False),
    sa.Column('leaders_with_accounts', sa.Integer(), nullable=False),
    sa.Column('accounts_total', sa.Integer(), nullable=False),
    sa.Column('accounts_verified', sa.Integer(), nullable=False),
    sa.Column('accounts_pending', sa.Integer(), nullable=False),
    sa.Column('accounts_facebook', sa.Integer(), nullable=False),
    sa.Column('accounts_zalo', sa.Integer(), nullable=False),
    sa.Column('accounts_youtube', sa.Integer(), nullable=False),
    sa.Column('accounts_tiktok', sa.Integer(), nullable=False),
    sa.Column('accounts_instagram', sa.Integer(), nullable=False),
    sa.Column('accounts_x', sa.Integer(), nullable=False),
    sa.Column('accounts_telegram', sa.Integer(), nullable=False),
    sa.Column('accounts_threads', sa.Integer(), nullable=False),
    sa.Column('accounts_linkedin', sa.Integer(), nullable=False),
    sa.Column('accounts_website', sa.Integer(), nullable=False),
    sa.Column('accounts_other', sa.Integer(), nullable=False),
    sa.Column('reports_filed', sa.Integer(), nullable=False),
    sa.Column('reports_open', sa.Integer(), nullable=False),
    sa.Column('reports_resolved', sa.Integer(), nullable=False),
    sa.Column('ack_expected', sa.Integer(), nullable=False),
    sa.Column('ack_done', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_unit_stats_unit_id_units'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('unit_id', name=op.f('pk_unit_stats'))
    )
    op.create_table('unit_rollups',
    sa.Column('unit_id', sa.Uuid(), nullable=False),
    sa.Column('members_active', sa.Integer(), nullable=False),
    sa.Column('leaders_active', sa.Integer(), nullable=False),
    sa.Column('members_declared', sa.Integer(), nullable=False),
    sa.Column('members_with_accounts', sa.Integer(), nullable=False),
    sa.Column('leaders_with_accounts', sa.Integer(), nullable=False),
    sa.Column('accounts_total', sa.Integer(), nullable=False),
    sa.Column('accounts_verified', sa.Integer(), nullable=False),
    sa.Column('accounts_pending', sa.Integer(), nullable=False),
    sa.Column('accounts_facebook', sa.Integer(), nullable=False),
    sa.Column('accounts_zalo', sa.Integer(), nullable=False),
    sa.Column('accounts_youtube', sa.Integer(), nullable=False),
    sa.Column('accounts_tiktok', sa.Integer(), nullable=False),
    sa.Column('accounts_instagram', sa.Integer(), nullable=False),
    sa.Column('accounts_x', sa.Integer(), nullable=False),
    sa.Column('accounts_telegram', sa.Integer(), nullable=False),
    sa.Column('accounts_threads', sa.Integer(), nullable=False),
    sa.Column('accounts_linkedin', sa.Integer(), nullable=False),
    sa.Column('accounts_website', sa.Integer(), nullable=False),
    sa.Column('accounts_other', sa.Integer(), nullable=False),
    sa.Column('reports_filed', sa.Integer(), nullable=False),
    sa.Column('reports_open', sa.Integer(), nullable=False),
    sa.Column('reports_resolved', sa.Integer(), nullable=False),
    sa.Column('ack_expected', sa.Integer(), nullable=False),
    sa.Column('ack_done', sa.Integer(), nullable=False),
    sa.Column('median_hours_to_resolve', sa.Double(), nullable=True),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_unit_rollups_unit_id_units'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('unit_id', name=op.f('pk_unit_rollups'))
    )
    op.create_table('unit_document_acks',
    sa.Column('document_id', sa.Uuid(), nullable=False),
    sa.Column('unit_id', sa.Uuid(), nullable=False),
    sa.Column('acks', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_unit_document_acks_document_id_documents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_unit_document_acks_unit_id_units'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('document_id', 'unit_id', name=op.f('pk_unit_document_acks'))
    )
    with op.batch_alter_table('unit_document_acks', schema=None) as batch_op:
        batch_op.create_index('ix_unit_document_acks_unit_id', ['unit_id'], unique=False)




def downgrade() -> None:
    with op.batch_alter_table('unit_document_acks', schema=None) as batch_op:
        batch_op.drop_index('ix_unit_document_acks_unit_id')

    op.drop_table('unit_document_acks')
    op.drop_table('unit_rollups')
    op.drop_table('unit_stats')
