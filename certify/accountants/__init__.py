"""certify.accountants"""
