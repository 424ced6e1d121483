"""certify.report"""
