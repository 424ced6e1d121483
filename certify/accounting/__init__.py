"""certify.accounting"""
